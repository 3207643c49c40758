import { resolveLlamaLibrary } from '@cy/adapter-llama'
import { isFinished, type TrainingEvent, type TrainingJob } from '@cy/core'
import { GrpcServer } from '@cy/grpc'
import type { Server } from '@cy/http'
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TrainingManager } from '../../packages/adapter-llama/src/training/jobs/training-manager.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { startTestServer } from '../support/test-server.ts'
import { clients, collect, unary, withKey } from './grpc-support.ts'

// TrainingService on a real trainer: jobs of the tiny f32 llama, each in its own engine process.
const KEY = 'grpc-training-secret'
const dir = mkdtempSync(join(tmpdir(), 'cy-grpc-training-'))
const outRoot = join(dir, 'out')
const SENTENCE = 'Quick fox.\n'
let manager: TrainingManager
let server: Server
let grpcServer: GrpcServer
let client: ReturnType<typeof clients>
let modelPath: string

interface Progress {
  trace_id: string
  job_id: string
  status: string
  progress?: { current_epoch: number; current_step: number; total_steps: number; checkpoint_step?: number }
  metrics?: { loss: number; learning_rate: number; eval_loss?: number }
  elapsed_time_seconds?: number
  estimated_time_remaining_seconds?: number
  error?: string
  warnings?: string[]
  result?: { final_loss: number; first_loss: number; epoch_losses: number[]; adapter?: { path: string; max_relative_error: number; rank: number } }
}

beforeAll(async () => {
  modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
  writeFileSync(join(dir, 'sentence.txt'), SENTENCE.repeat(600))
  const libDir = (await resolveLlamaLibrary(undefined)).dir
  manager = new TrainingManager({ store: ':memory:', libDir, allowedOutputDirs: [outRoot], allowedDataDirs: [dir], threads: 1, progressIntervalMs: 0 })
  server = await startTestServer({ apiKey: KEY }, (s) => s.setTraining(manager))
  grpcServer = new GrpcServer(server.context)
  client = clients(`127.0.0.1:${await grpcServer.start(0)}`)
})

afterAll(async () => {
  client.close()
  await grpcServer.stop()
  await server.stop()
  await manager.close()
  rmSync(dir, { recursive: true, force: true })
})

/** A request of `epochs` on the repeated sentence; windows of 1024 tokens make steps long enough to cancel between. */
const request = (output: string, epochs: number, extra: object = {}) => ({
  base_model: modelPath,
  output_dir: join(outRoot, output),
  dataset_text: SENTENCE.repeat(600),
  hyper_params: { epochs, learning_rate: 3e-3, max_seq_length: epochs > 2 ? 1024 : 256, batch_size: 1 },
  threads: 1,
  ...extra,
})

const start = (body: object, metadata = withKey(KEY)) => client.training.StartTraining!(body, metadata) as ClientReadableStream<Progress>
const messages = async (stream: ClientReadableStream<Progress>) => (await collect(stream as never)) as unknown as { responses: Progress[]; error?: ServiceError }
const failure = (call: Promise<unknown>) => call.then(() => expect.unreachable(), (error: ServiceError) => error)

/** The first message of `stream` that `predicate` accepts. */
const first = (stream: ClientReadableStream<Progress>, predicate: (message: Progress) => boolean) =>
  new Promise<Progress>((resolve) => {
    const look = (message: Progress) => {
      if (!predicate(message)) return
      stream.off('data', look)
      resolve(message)
    }
    stream.on('data', look)
  })

/** Job `id` once the trainer says `predicate` of it (its events, or its status now). */
function when(id: string, predicate: (job: TrainingJob) => boolean): Promise<TrainingJob> {
  if (predicate(manager.status(id))) return Promise.resolve(manager.status(id))
  return new Promise((resolve) => {
    const stop = manager.subscribe(({ job }) => {
      if (!predicate(job)) return
      stop()
      resolve(job)
    }, id)
  })
}
const finished = (id: string) => when(id, (job) => isFinished(job.status))

describe('TrainingService on a trainer', () => {
  const ids: Record<string, string> = {}

  test('StartTraining streams every event of the job (the losses the trainer stores), COMPLETED with the result last, then OK; GetTrainingStatus agrees', async () => {
    const events: TrainingEvent[] = []
    const stopEvents = manager.subscribe((event) => void events.push(event))
    const metadata = withKey(KEY)
    metadata.set('x-request-id', 'trace-train-1')
    const { responses, error } = await messages(
      start({ ...request('complete', 2, { dataset_text: undefined, dataset_path: join(dir, 'sentence.txt') }), lora_config: { r: 8, lora_alpha: 8 } }, metadata),
    )
    stopEvents()
    expect(error).toBeUndefined()
    const id = responses[0]!.job_id
    ids.completed = id
    expect(id).toMatch(/^train-/)
    expect(responses.every((message) => message.trace_id === 'trace-train-1' && message.job_id === id)).toBe(true)

    // One message per event of this job, in order, each the stored job of that moment.
    const mine = events.filter((event) => event.job.id === id).map((event) => event.job)
    expect(responses.map((message) => message.status)).toEqual(mine.map((job) => job.status.toUpperCase()))
    expect(responses.map((message) => message.metrics?.loss)).toEqual(mine.map((job) => job.progress?.loss))
    expect(responses.map((message) => message.progress?.current_step)).toEqual(mine.map((job) => job.progress?.currentStep))
    expect(responses[0]!.status).toBe('QUEUED')
    expect(responses.filter((message) => message.status === 'RUNNING' && message.metrics).length).toBeGreaterThan(2)

    const stored = manager.status(id)
    const last = responses.at(-1)!
    expect(last.status).toBe('COMPLETED')
    expect(last.metrics).toEqual({ loss: stored.progress!.loss, learning_rate: stored.progress!.learningRate })
    expect(last.progress).toMatchObject({ current_epoch: 2, current_step: stored.progress!.totalSteps, total_steps: stored.progress!.totalSteps })
    expect(last.estimated_time_remaining_seconds).toBe(0)
    expect(last.result!.final_loss).toBeLessThan(last.result!.first_loss / 2)
    expect(last.result!.epoch_losses).toEqual(stored.result!.epochLosses)
    expect(last.result!.adapter).toMatchObject({ path: stored.result!.adapter!.path, rank: 8, max_relative_error: stored.result!.adapter!.maxRelativeError })
    expect(existsSync(last.result!.adapter!.path)).toBe(true)

    const answer = await unary<Record<string, unknown>>(client.training, 'GetTrainingStatus', { job_id: id }, withKey(KEY))
    const { trace_id: _, ...shared } = last
    expect(answer).toMatchObject(shared)
    expect(answer).toMatchObject({
      created_at: stored.createdAt,
      started_at: stored.startedAt,
      completed_at: stored.finishedAt,
      message: 'Training job has completed',
      base_model: modelPath,
      dataset_path: join(dir, 'sentence.txt'),
    })
  })

  test('CancelTraining: a queued job at once, a running one after its step (its stream ends CANCELLED, OK); a busy output_dir is FAILED_PRECONDITION', async () => {
    const running = start(request('long', 50))
    const runningDone = messages(running)
    const progressed = await first(running, (message) => message.metrics !== undefined)
    ids.cancelledRunning = progressed.job_id

    const busy = await messages(start(request('long', 1)))
    expect(busy.responses).toEqual([])
    expect(busy.error!.code).toBe(status.FAILED_PRECONDITION)
    expect(busy.error!.metadata.get('error-code')).toEqual(['TRAINING_JOB_RUNNING'])
    expect(busy.error!.metadata.get('error-field')).toEqual(['outputDir'])

    // One job at a time: this one waits, and a cancel ends it at once.
    const queued = start(request('queued', 50))
    const queuedDone = messages(queued)
    const waiting = await first(queued, (message) => message.status === 'QUEUED')
    ids.cancelledQueued = waiting.job_id
    expect(await unary(client.training, 'CancelTraining', { job_id: waiting.job_id }, withKey(KEY))).toEqual({
      job_id: waiting.job_id,
      status: 'CANCELLED',
      message: 'Training job has been cancelled',
    })
    const queuedMessages = await queuedDone
    expect(queuedMessages.error).toBeUndefined()
    expect(queuedMessages.responses.map((message) => message.status)).toEqual(['QUEUED', 'CANCELLED'])

    const atCancel = manager.status(progressed.job_id).progress!.currentStep
    expect(await unary(client.training, 'CancelTraining', { job_id: progressed.job_id }, withKey(KEY))).toMatchObject({ status: 'RUNNING', message: expect.stringContaining('after its current step') })
    const { responses, error } = await runningDone
    expect(error).toBeUndefined()
    const last = responses.at(-1)!
    expect(last.status).toBe('CANCELLED')
    expect(last.progress!.current_step).toBeLessThanOrEqual(atCancel + 1)
    expect(last.progress!.current_step).toBeLessThan(last.progress!.total_steps)
    expect(manager.status(progressed.job_id).status).toBe('cancelled')
  })

  test('a client that cancels its StartTraining call leaves the job running; PauseTraining and ResumeTraining hold and release it; CancelTraining stops it', async () => {
    const stream = start(request('left', 50))
    const ended = messages(stream)
    const progressed = await first(stream, (message) => message.metrics !== undefined)
    stream.cancel()
    expect((await ended).error!.code).toBe(status.CANCELLED)
    const later = await when(progressed.job_id, (job) => (job.progress?.currentStep ?? 0) > progressed.progress!.current_step + 1)
    expect(later.status).toBe('running')
    // PauseTraining holds it after a step, ResumeTraining lets it go on; resuming a job not paused is FAILED_PRECONDITION.
    expect(await unary(client.training, 'PauseTraining', { job_id: progressed.job_id }, withKey(KEY))).toMatchObject({ job_id: progressed.job_id })
    const paused = await when(progressed.job_id, (job) => job.status === 'paused')
    expect(await unary(client.training, 'ResumeTraining', { job_id: progressed.job_id }, withKey(KEY))).toMatchObject({ message: 'Training job is resuming' })
    const resumed = await when(progressed.job_id, (job) => job.status === 'running' && job.progress!.currentStep > paused.progress!.currentStep)
    expect(resumed.progress!.currentStep).toBeGreaterThan(paused.progress!.currentStep)
    const again = await unary(client.training, 'ResumeTraining', { job_id: progressed.job_id }, withKey(KEY)).catch((error: { code: number }) => error)
    expect((again as { code: number }).code).toBe(status.FAILED_PRECONDITION)
    await unary(client.training, 'CancelTraining', { job_id: progressed.job_id }, withKey(KEY))
    expect((await finished(progressed.job_id)).status).toBe('cancelled')
    ids.cancelledLeft = progressed.job_id
  })

  test('ListTrainingJobs filters by status, pages with limit and offset (default limit 100), oldest first', async () => {
    const list = (body: object) => unary<{ jobs?: Array<Record<string, unknown>>; total: number; limit: number; offset: number }>(client.training, 'ListTrainingJobs', body, withKey(KEY))
    const cancelled = [ids.cancelledRunning, ids.cancelledQueued, ids.cancelledLeft]
    const all = await list({ status: 'CANCELLED' })
    expect(all).toMatchObject({ total: 3, limit: 100, offset: 0 })
    expect(all.jobs!.map((job) => job.job_id)).toEqual(cancelled)
    expect(all.jobs!.every((job) => job.status === 'CANCELLED')).toBe(true)
    const page = await list({ status: 'CANCELLED', limit: 1, offset: 1 })
    expect(page).toMatchObject({ total: 3, limit: 1, offset: 1 })
    expect(page.jobs!.map((job) => job.job_id)).toEqual([ids.cancelledQueued])
    const completed = await list({ status: 'COMPLETED' })
    expect(completed.jobs!.map((job) => job.job_id)).toEqual([ids.completed])
    // Each job as GetTrainingStatus answers it.
    expect(completed.jobs![0]).toEqual(await unary(client.training, 'GetTrainingStatus', { job_id: ids.completed }, withKey(KEY)))
    expect((await list({})).total).toBe(manager.list().total)

    const negative = await failure(list({ limit: -1 }))
    expect(negative.code).toBe(status.INVALID_ARGUMENT)
    expect(negative.metadata.get('error-field')).toEqual(['limit'])
  })

  test('errors before any message: an unknown job is NOT_FOUND, a bad field INVALID_ARGUMENT naming it, no key UNAUTHENTICATED', async () => {
    for (const method of ['GetTrainingStatus', 'CancelTraining']) {
      const missing = await failure(unary(client.training, method, { job_id: 'train-nope' }, withKey(KEY)))
      expect(missing.code).toBe(status.NOT_FOUND)
      expect(missing.metadata.get('error-code')).toEqual(['TRAINING_JOB_NOT_FOUND'])
      expect(missing.details).toContain('train-nope')
    }
    const jobs = manager.list().total
    const outside = await messages(start(request('x', 1, { output_dir: join(dir, 'elsewhere') })))
    expect(outside.responses).toEqual([])
    expect(outside.error!.code).toBe(status.INVALID_ARGUMENT)
    expect(outside.error!.metadata.get('error-field')).toEqual(['outputDir'])
    expect(outside.error!.details).toContain('outputDir')
    const epochs = await messages(start(request('x', 1, { hyper_params: { epochs: 0 } })))
    expect(epochs.error!.metadata.get('error-field')).toEqual(['hyperParams.epochs'])
    const dataset = await messages(start(request('x', 1, { dataset_text: undefined, dataset_path: join(tmpdir(), 'nope.txt') })))
    expect(dataset.error!.code).toBe(status.INVALID_ARGUMENT)
    expect(dataset.error!.metadata.get('error-field')).toEqual(['datasetPath'])

    const anonymous = await messages(start(request('x', 1), withKey()))
    expect(anonymous.error!.code).toBe(status.UNAUTHENTICATED)
    expect((await failure(unary(client.training, 'ListTrainingJobs', {}, withKey('wrong')))).code).toBe(status.UNAUTHENTICATED)
    expect(manager.list().total).toBe(jobs)
  })

  test('health says TrainingService serves; a server without a trainer answers UNIMPLEMENTED, saying training is off', async () => {
    expect(await unary(client.health, 'Check', { service: 'cy.engine.v1.TrainingService' })).toEqual({ status: 'SERVING' })
    server.setTraining(undefined)
    try {
      const stream = await messages(start(request('x', 1)))
      expect(stream.error!.code).toBe(status.UNIMPLEMENTED)
      expect(stream.error!.details).toContain('Training is not available')
      for (const [method, body] of [['GetTrainingStatus', { job_id: ids.completed }], ['CancelTraining', { job_id: ids.completed }], ['ListTrainingJobs', {}]] as const)
        expect((await failure(unary(client.training, method, body, withKey(KEY)))).code).toBe(status.UNIMPLEMENTED)
      // The key still comes first.
      expect((await failure(unary(client.training, 'ListTrainingJobs', {}, withKey('wrong')))).code).toBe(status.UNAUTHENTICATED)
    } finally {
      server.setTraining(manager)
    }
  })
})
