import { ConflictError, RateLimitError, TrainingJobNotFoundError, TrainingJobRunningError, type ModelConfig, type TrainingEvent, type TrainingJob, type TrainingJobs, type TrainingListener, type TrainingRequest, type TrainingResult } from '@cy/core'
import type { Subprocess } from 'bun'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { copyFile, mkdir, rename } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { JobStore, STOPPED_WHILE_RUNNING, type JobListOptions } from './job-store.ts'
import type { TrainingEngineMessage, TrainingEngineSpec } from './training-engine-protocol.ts'
import { resolveTrainingRequest, type ResolvedTraining, type TrainingRequestContext } from './training-request.ts'

const ENGINE = new URL('./training-engine.ts', import.meta.url).pathname

export interface TrainingManagerOptions {
  /** The SQLite file of the jobs (`:memory:` for none), or an open store the manager then owns. */
  store: string | JobStore
  /** The folder holding libllama (resolveLlamaLibrary's `dir`), or how to find it when the first job starts. */
  libDir: string | (() => Promise<string>)
  /** Folders an outputDir must be inside. */
  allowedOutputDirs: readonly string[]
  /** Folders a datasetPath (or a baseModel given as a path) must be inside (default none). */
  allowedDataDirs?: readonly string[]
  /** A served model's config by name (a baseModel given as an id); its trained adapters are published into its loraDir. */
  resolveModel?: (name: string) => ModelConfig | undefined
  modelNames?: () => string[]
  /** Jobs running at once (default 1: training takes every core it is given); the rest wait `queued`. */
  concurrency?: number
  /** Jobs that may wait `queued` (default 100); a start past them is a 429. */
  maxQueued?: number
  /** The engine's threads when a request names none (default: every core). */
  threads?: number
  /** The least time between two progress events of a job (default 250 ms). */
  progressIntervalMs?: number
  /** After a cancel, how long the engine gets to stop at its next step before it is killed (default 30 s). */
  cancelGraceMs?: number
}

interface Running {
  child: Subprocess
  cancelPath: string
  pausePath: string
  /** Sent when the engine says it is ready. */
  spec: TrainingEngineSpec
  served?: ResolvedTraining['served']
  killTimer?: ReturnType<typeof setTimeout>
  /** The last message; the exit settles the job from it. */
  final?: TrainingEngineMessage
}

/**
 * Training jobs, each in its own engine process (training-engine.ts), never the serving one; a queue beyond
 * `concurrency`. Events (every status change and progress message) feed SSE and gRPC streams.
 */
export class TrainingManager implements TrainingJobs {
  readonly #store: JobStore
  readonly #options: Required<Omit<TrainingManagerOptions, 'store' | 'resolveModel' | 'modelNames' | 'libDir'>>
  readonly #context: TrainingRequestContext
  readonly #libDir: () => Promise<string>
  /** Found before the first job is stored (#launch is synchronous). */
  #lib: string | undefined
  readonly #resolved = new Map<string, ResolvedTraining>()
  readonly #running = new Map<string, Running>()
  readonly #listeners = new Set<{ id?: string; listener: TrainingListener }>()
  readonly #scratch: string
  #closed = false

  constructor({ store, resolveModel, modelNames, libDir, ...options }: TrainingManagerOptions) {
    this.#store = typeof store === 'string' ? new JobStore(store) : store
    this.#options = {
      concurrency: 1,
      maxQueued: 100,
      threads: availableParallelism(),
      progressIntervalMs: 250,
      cancelGraceMs: 30_000,
      allowedDataDirs: [],
      ...options,
    }
    this.#context = {
      allowedOutputDirs: this.#options.allowedOutputDirs,
      allowedDataDirs: this.#options.allowedDataDirs,
      defaultThreads: this.#options.threads,
      ...(resolveModel ? { resolveModel } : {}),
      ...(modelNames ? { modelNames } : {}),
    }
    let found: Promise<string> | undefined
    this.#libDir = typeof libDir === 'string' ? () => Promise.resolve(libDir) : () => (found ??= libDir())
    if (typeof libDir === 'string') this.#lib = libDir
    this.#scratch = join(tmpdir(), `cy-training-${process.pid}-${Date.now()}`)
    mkdirSync(this.#scratch, { recursive: true })
    // Jobs still queued from a previous run: their requests are stored, so they run again, re-checked one
    // after another in their order (each check reads its dataset file).
    void this.#requeueAll(this.#store.list({ status: 'queued', limit: -1 }).jobs)
  }

  /** Validates (400s naming the field), stores the job `queued`, and starts it when a slot is free. */
  async start(request: TrainingRequest): Promise<TrainingJob> {
    this.#open()
    // The cheap refusals before the request's files are read, and again after (other starts ran meanwhile).
    if (typeof request.outputDir === 'string') this.#admit(resolve(request.outputDir))
    const resolved = await resolveTrainingRequest(request, this.#context)
    this.#lib ??= await this.#libDir()
    this.#admit(resolved.outputDir)
    const job = this.#store.create(request, resolved.warnings)
    this.#resolved.set(job.id, resolved)
    this.#emit('status', job)
    this.#pump()
    return this.#store.get(job.id)!
  }

  /** A 400 when another job holds `outputDir`, a 429 when the queue is full. */
  #admit(outputDir: string): void {
    const busy = [...this.#resolved].find(([, other]) => other.outputDir === outputDir)
    if (busy) throw new TrainingJobRunningError(outputDir, busy[0])
    const waiting = this.#resolved.size - this.#running.size
    if (waiting >= this.#options.maxQueued) {
      throw new RateLimitError(`${waiting} training jobs are already queued, the most this server keeps waiting; start this one when one has run`, { retryAfterSeconds: 60 })
    }
  }

  status(id: string): TrainingJob {
    const job = this.#store.get(id)
    if (!job) throw new TrainingJobNotFoundError(id)
    return job
  }

  list(options: JobListOptions = {}): { jobs: TrainingJob[]; total: number } {
    return this.#store.list(options)
  }

  /** A queued job is cancelled at once; a running one stops after its current step (the job's status tells when). */
  cancel(id: string): TrainingJob {
    const job = this.status(id)
    const running = this.#running.get(id)
    if (running) {
      writeFileSync(running.cancelPath, '')
      running.killTimer ??= setTimeout(() => running.child.kill('SIGKILL'), this.#options.cancelGraceMs)
      return job
    }
    if (job.status !== 'queued') return job
    return this.#finish(id, { status: 'cancelled' })
  }

  /**
   * A running job waits after its current step, its engine process and memory kept (it keeps its slot);
   * the job is `paused` once it does. A 409 for a job that is not running.
   */
  pause(id: string): TrainingJob {
    const job = this.status(id)
    const running = this.#running.get(id)
    if (!running || (job.status !== 'running' && job.status !== 'paused') || running.killTimer) {
      throw new ConflictError(`training job ${id} is ${job.status}: only a running job can be paused`, { param: 'jobId', code: 'training_job_not_running' })
    }
    writeFileSync(running.pausePath, '')
    return job
  }

  /** A paused (or pausing) job goes on from the step it stopped after. A 409 for a job that is not. */
  resume(id: string): TrainingJob {
    const job = this.status(id)
    const running = this.#running.get(id)
    if (!running || !existsSync(running.pausePath)) {
      throw new ConflictError(`training job ${id} is ${job.status}: only a paused job can be resumed`, { param: 'jobId', code: 'training_job_not_paused' })
    }
    rmSync(running.pausePath, { force: true })
    return job
  }

  /** Events of one job, or of every job without an id; returns the unsubscribe. */
  subscribe(listener: TrainingListener, id?: string): () => void {
    const entry = { id, listener }
    this.#listeners.add(entry)
    return () => this.#listeners.delete(entry)
  }

  /** Kills running engines (their jobs fail: the server stopped while they ran) and closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const exits = [...this.#running].map(([id, running]) => {
      running.final = { kind: 'failed', message: STOPPED_WHILE_RUNNING }
      running.child.kill('SIGKILL')
      return running.child.exited.then(() => this.#settle(id))
    })
    await Promise.all(exits)
    this.#store.close()
    rmSync(this.#scratch, { recursive: true, force: true })
  }

  async #requeueAll(jobs: TrainingJob[]): Promise<void> {
    for (const job of jobs) if (!this.#closed) await this.#requeue(job)
  }

  async #requeue(job: TrainingJob): Promise<void> {
    try {
      const resolved = await resolveTrainingRequest(job.request, this.#context)
      this.#lib ??= await this.#libDir()
      this.#resolved.set(job.id, resolved)
      this.#pump()
    } catch (error) {
      this.#finish(job.id, {
        status: 'failed',
        error: error instanceof Error ? error.message : String(error),
      })
    }
  }

  #pump(): void {
    if (this.#closed) return
    const queued = this.#store.list({ status: 'queued', limit: -1 }).jobs.filter((job) => this.#resolved.has(job.id))
    for (const job of queued) {
      if (this.#running.size >= this.#options.concurrency) return
      this.#launch(job.id, this.#resolved.get(job.id)!)
    }
  }

  #launch(id: string, { warnings: _, served, ...resolved }: ResolvedTraining): void {
    mkdirSync(resolved.outputDir, { recursive: true })
    const cancelPath = join(this.#scratch, `${id}.cancel`)
    const pausePath = join(this.#scratch, `${id}.pause`)
    const spec: TrainingEngineSpec = {
      ...resolved,
      libDir: this.#lib!,
      cancelPath,
      pausePath,
      progressIntervalMs: this.#options.progressIntervalMs,
    }
    const child = Bun.spawn([process.execPath, ENGINE], {
      stdio: ['ignore', 'inherit', 'inherit'],
      serialization: 'advanced',
      ipc: (message: TrainingEngineMessage) => this.#message(id, message),
    })
    const running: Running = { child, cancelPath, pausePath, spec, ...(served ? { served } : {}) }
    this.#running.set(id, running)
    child.exited.then((code) => {
      running.final ??= {
        kind: 'failed',
        message: `the training engine process exited (${child.signalCode ? `signal ${child.signalCode}` : `code ${code}`}) before finishing`,
      }
      void this.#settle(id)
    })
    this.#emit(
      'status',
      this.#store.update(id, {
        status: 'running',
        startedAt: new Date().toISOString(),
      })!,
    )
  }

  #message(id: string, message: TrainingEngineMessage): void {
    const running = this.#running.get(id)
    if (!running) return
    if (message.kind === 'ready') {
      running.child.send(running.spec)
      return
    }
    if (message.kind === 'progress') {
      this.#emit('progress', this.#store.update(id, { progress: message.progress })!)
      return
    }
    if (message.kind === 'paused' || message.kind === 'resumed') {
      const status = message.kind === 'paused' ? 'paused' : 'running'
      this.#emit('status', this.#store.update(id, { status, ...(message.kind === 'paused' ? { progress: message.progress } : {}) })!)
      return
    }
    if (message.kind === 'warnings') {
      this.#emit('status', this.#store.update(id, { warnings: [...this.status(id).warnings, ...message.warnings] })!)
      return
    }
    running.final = message
  }

  /** The engine has exited: the job takes its last message's outcome, and the next queued job starts. */
  async #settle(id: string): Promise<void> {
    const running = this.#running.get(id)
    if (!running) return
    clearTimeout(running.killTimer)
    rmSync(running.cancelPath, { force: true })
    rmSync(running.pausePath, { force: true })
    const final = running.final!
    // The slot stays taken while the adapter is published, so the next job cannot start under it.
    const result = final.kind === 'completed' ? await this.#publish(final.result, running.served).catch((error: Error) => error) : undefined
    this.#running.delete(id)
    if (result instanceof Error) this.#finish(id, { status: 'failed', progress: (final as { progress: TrainingJob['progress'] }).progress, error: `the adapter could not be published: ${result.message}` })
    else if (final.kind === 'completed')
      this.#finish(id, {
        status: 'completed',
        progress: final.progress,
        result: result!,
      })
    else if (final.kind === 'cancelled')
      this.#finish(id, {
        status: 'cancelled',
        ...(final.progress ? { progress: final.progress } : {}),
      })
    else if (running.killTimer && final.kind === 'failed' && !this.#closed) this.#finish(id, { status: 'cancelled' })
    else
      this.#finish(id, {
        status: 'failed',
        error: final.kind === 'failed' ? final.message : 'the training engine stopped unexpectedly',
      })
    this.#pump()
  }

  /**
   * A served model's adapter goes into its adapters folder as `<outputDir's name>.gguf` (a temporary file
   * renamed over, so a reader never sees half of one): `adapter` names it at inference from then on.
   */
  async #publish(result: TrainingResult, served: ResolvedTraining['served']): Promise<TrainingResult> {
    if (!result.adapter || !served?.loraDir) return result
    const name = basename(join(result.adapter.path, '..'))
    await mkdir(served.loraDir, { recursive: true })
    const target = join(served.loraDir, `${name}.gguf`)
    await copyFile(result.adapter.path, `${target}.partial`)
    await rename(`${target}.partial`, target)
    return { ...result, adapter: { ...result.adapter, name, model: served.model } }
  }

  #finish(id: string, patch: Parameters<JobStore['update']>[1]): TrainingJob {
    this.#resolved.delete(id)
    const job = this.#store.update(id, {
      ...patch,
      finishedAt: new Date().toISOString(),
    })!
    this.#emit('status', job)
    return job
  }

  #emit(kind: TrainingEvent['kind'], job: TrainingJob): void {
    for (const { id, listener } of this.#listeners) if (id === undefined || id === job.id) listener({ kind, job })
  }

  #open(): void {
    if (this.#closed) throw new Error('the training manager is closed')
  }
}
