import createLlamaAdapter, { resolveLlamaLibrary } from '@cy/adapter-llama'
import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JobStore, STOPPED_WHILE_RUNNING } from '../../packages/adapter-llama/src/training/jobs/job-store.ts'
import { isFinished, type TrainingEvent, type TrainingJob, type TrainingJobs, type TrainingRequest } from '@cy/core'
import { TrainingManager } from '../../packages/adapter-llama/src/training/jobs/training-manager.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { referenceGreedy } from './reference-greedy.ts'

// Training jobs end to end on the tiny f32 llama: each job in its own engine process, stored in SQLite.
const dir = mkdtempSync(join(tmpdir(), 'cy-training-jobs-'))
const outRoot = join(dir, 'out')
const SENTENCE = 'Quick fox.\n'
const PREFIX = 'Quick'
// The rest of the sentence and the next one's start, as greedy decoding prints them (a space as '▁').
const REST = '▁fox.\nQuick'
let libDir: string
let modelPath: string

beforeAll(async () => {
  libDir = (await resolveLlamaLibrary(undefined)).dir
  modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const newManager = (name: string) =>
  new TrainingManager({
    store: join(dir, `${name}.db`),
    libDir,
    allowedOutputDirs: [outRoot],
    allowedDataDirs: [dir],
    threads: 1,
    progressIntervalMs: 0,
  })

const request = (output: string, epochs: number, extra: Partial<TrainingRequest> = {}): TrainingRequest => ({
  baseModel: modelPath,
  outputDir: join(outRoot, output),
  dataset: { text: SENTENCE.repeat(600) },
  hyperParams: { epochs, learningRate: 3e-3, maxSeqLength: 256, batchSize: 1 },
  ...extra,
})

/** The first event of job `id` that `predicate` accepts (or the job itself, when it already does). */
function when(manager: TrainingJobs, id: string, predicate: (event: TrainingEvent) => boolean): Promise<TrainingJob> {
  return new Promise((resolve) => {
    const stop = manager.subscribe((event) => {
      if (!predicate(event)) return
      stop()
      resolve(event.job)
    }, id)
  })
}
const finished = (manager: TrainingJobs, id: string) =>
  isFinished(manager.status(id).status) ? Promise.resolve(manager.status(id)) : when(manager, id, (event) => isFinished(event.job.status))

describe('training jobs', () => {
  test('a job runs in its own process to completed: the loss halves, progress has the seed’s fields, and the adapter loads in llama.cpp', async () => {
    const manager = newManager('complete')
    try {
      const events: TrainingEvent[] = []
      const loraConfig = {
        r: 16,
        loraAlpha: 16,
        loraDropout: 0.05,
        bias: 'all' as const,
      }
      const job = await manager.start(
        request('complete', 2, {
          loraConfig,
          hyperParams: { ...request('', 2).hyperParams, saveSteps: 1 },
        }),
      )
      expect(job.id).toMatch(/^train-/)
      manager.subscribe((event) => void events.push(event), job.id)
      const done = await finished(manager, job.id)
      expect(done.error).toBeNull()
      expect(done.status).toBe('completed')
      expect(done.warnings.some((w) => w.startsWith('loraDropout 0.05'))).toBe(true)
      expect(done.warnings.some((w) => w.startsWith("bias 'all'"))).toBe(true)
      expect(done.startedAt && done.finishedAt).toBeTruthy()

      const progress = events.filter((event) => event.kind === 'progress').map((event) => event.job.progress!)
      expect(progress.length).toBeGreaterThan(2)
      for (const p of progress) {
        expect(Object.keys(p)).toEqual(
          expect.arrayContaining(['currentEpoch', 'currentStep', 'totalSteps', 'loss', 'learningRate', 'elapsedTimeSeconds', 'estimatedTimeRemainingSeconds']),
        )
      }
      const last = done.progress!
      expect(last.currentStep).toBe(last.totalSteps)
      expect(last.currentEpoch).toBe(2)
      expect(last.estimatedTimeRemainingSeconds).toBe(0)
      // Linear decay: the rate falls step by step.
      expect(progress.at(-1)!.learningRate).toBeLessThan(progress[0]!.learningRate)
      const result = done.result!
      expect(result.epochLosses).toHaveLength(2)
      expect(result.finalLoss).toBeLessThan(result.firstLoss / 2)
      // saveSteps 1: a checkpoint after every step, inside the epochs, but the last (whose model is model.gguf).
      expect(existsSync(result.checkpointPath!)).toBe(true)
      expect(last.checkpointStep).toBe(last.totalSteps - 1)
      const checkpoints = progress.flatMap((p) => (p.checkpointStep === p.currentStep ? [p.currentStep] : []))
      expect(checkpoints).toEqual(Array.from({ length: last.totalSteps - 1 }, (_, i) => i + 1))

      const adapter = result.adapter!
      expect(existsSync(adapter.path)).toBe(true)
      // Every matrix changed (the whole model trains without targetModules), at rank 16 of 64: ~35% of each change is lost.
      expect(adapter.tensors.map((t) => t.name)).toContain('output.weight')
      expect(adapter.tensors.every((t) => t.rank === 16)).toBe(true)
      expect(adapter.maxRelativeError).toBeGreaterThan(0)
      expect(adapter.maxRelativeError).toBeLessThan(0.5)
      const tokens = 16
      const tuned = referenceGreedy(libDir, result.modelPath, PREFIX, tokens, {
        threads: 1,
      })
      const withAdapter = referenceGreedy(libDir, modelPath, PREFIX, tokens, {
        threads: 1,
        loras: [{ path: adapter.path, scale: 1 }],
      })
      expect(tuned).toStartWith(REST)
      expect(withAdapter).toBe(tuned)
      expect(referenceGreedy(libDir, modelPath, PREFIX, tokens, { threads: 1 })).not.toStartWith(REST)
    } finally {
      await manager.close()
    }
  })

  test('a quantized base model is dequantized to F32 by llama.cpp first: the job says so, and its adapter on the q8_0 model continues the sentence', async () => {
    const manager = newManager('quantized')
    try {
      const quantized = await writeTinyLlama(join(dir, 'tiny-q8-train.gguf'), { quantize: true })
      const done = await finished(manager, (await manager.start(request('quantized', 2, { baseModel: quantized, loraConfig: { r: 16, loraAlpha: 16 } }))).id)
      expect(done.error).toBeNull()
      expect(done.status).toBe('completed')
      expect(done.warnings).toContainEqual(expect.stringMatching(/^baseModel has q8_0 weights: .* dequantizes the model to F32/))
      expect(done.result!.finalLoss).toBeLessThan(done.result!.firstLoss / 2)
      // The F32 copy it trained on is gone; the outputs stay.
      expect(existsSync(join(outRoot, 'quantized', '.base-f32.gguf'))).toBe(false)
      expect(existsSync(done.result!.modelPath)).toBe(true)
      const withAdapter = referenceGreedy(libDir, quantized, PREFIX, 16, { threads: 1, loras: [{ path: done.result!.adapter!.path, scale: 1 }] })
      expect(withAdapter).toStartWith(REST)
      expect(referenceGreedy(libDir, quantized, PREFIX, 16, { threads: 1 })).not.toStartWith(REST)
    } finally {
      await manager.close()
    }
  })

  test('one job at a time: a second queues; cancel stops the running one within a step; a busy outputDir and an unknown id are typed errors', async () => {
    const manager = new TrainingManager({ store: ':memory:', libDir, allowedOutputDirs: [outRoot], allowedDataDirs: [dir], threads: 1, progressIntervalMs: 0, maxQueued: 1 })
    try {
      // Windows of 1024 tokens: steps long enough (tens of ms) that the cancel lands on the step after the one reported.
      const first = await manager.start(
        request('first', 50, {
          hyperParams: { ...request('', 50).hyperParams, maxSeqLength: 1024 },
        }),
      )
      const seen = when(manager, first.id, (event) => event.kind === 'progress')
      const second = await manager.start(request('second', 50))
      expect(manager.status(second.id).status).toBe('queued')
      expect(manager.status(first.id).status).toBe('running')

      // One job may wait (maxQueued 1): a third is a 429 until the queue moves.
      expect(await manager.start(request('overflow', 1)).catch((error: unknown) => error)).toMatchObject({ status: 429, retryAfterSeconds: 60 })
      const busy = await manager.start(request('first', 1)).catch((error: unknown) => error)
      expect(busy).toMatchObject({
        status: 400,
        code: 'training_job_running',
        param: 'outputDir',
      })
      expect(() => manager.status('train-nope')).toThrow(
        expect.objectContaining({
          status: 404,
          code: 'training_job_not_found',
        }),
      )
      expect(() => manager.cancel('train-nope')).toThrow(expect.objectContaining({ code: 'training_job_not_found' }))

      const atCancel = (await seen).progress!.currentStep
      const secondRuns = when(manager, second.id, (event) => event.job.status === 'running')
      manager.cancel(first.id)
      const cancelled = await finished(manager, first.id)
      expect(cancelled.status).toBe('cancelled')
      expect(cancelled.progress!.currentStep).toBeLessThanOrEqual(atCancel + 1)
      expect(cancelled.progress!.currentStep).toBeLessThan(cancelled.progress!.totalSteps)
      expect(existsSync(join(outRoot, 'first', 'model.gguf'))).toBe(false)

      // The queue moves on: the second starts once the first has stopped, and a queued one cancels at once.
      expect((await secondRuns).status).toBe('running')
      const third = await manager.start(request('third', 1))
      expect(manager.cancel(third.id).status).toBe('cancelled')
      manager.cancel(second.id)
      expect((await finished(manager, second.id)).status).toBe('cancelled')
      expect(manager.list({ status: 'cancelled' }).total).toBe(3)
    } finally {
      await manager.close()
    }
  })

  test('a cancel keeps the last checkpoint; closing fails the running job, and a new manager runs the stored queue', async () => {
    const path = join(dir, 'restart.db')
    const manager = newManager('restart')
    const checkpointed = await manager.start(request('checkpointed', 50, { hyperParams: { ...request('', 50).hyperParams, saveSteps: 1 } }))
    const queued = await manager.start(request('queued', 50))
    try {
      const checkpoint = await when(manager, checkpointed.id, (event) => event.job.progress?.checkpointStep !== undefined)
      manager.cancel(checkpointed.id)
      const cancelled = await finished(manager, checkpointed.id)
      expect(cancelled.status).toBe('cancelled')
      expect(cancelled.progress!.checkpointStep).toBeGreaterThanOrEqual(checkpoint.progress!.checkpointStep!)
      expect(existsSync(join(outRoot, 'checkpointed', 'checkpoint.gguf'))).toBe(true)

      await when(manager, queued.id, (event) => event.kind === 'progress')
    } finally {
      await manager.close()
    }
    const stopped = new JobStore(path)
    expect(stopped.get(queued.id)).toMatchObject({
      status: 'failed',
      error: STOPPED_WHILE_RUNNING,
    })
    const waiting = stopped.create(request('waiting', 50))
    stopped.close()

    const next = new TrainingManager({
      store: path,
      libDir,
      allowedOutputDirs: [outRoot],
      allowedDataDirs: [dir],
      threads: 1,
      progressIntervalMs: 0,
    })
    try {
      await when(next, waiting.id, (event) => event.kind === 'progress')
      expect(next.status(waiting.id).status).toBe('running')
      next.cancel(waiting.id)
      expect((await finished(next, waiting.id)).status).toBe('cancelled')
    } finally {
      await next.close()
    }
  })

  test('bad requests are 400s naming the field, before any process starts', async () => {
    const manager = newManager('invalid')
    try {
      const refusal = (changes: Partial<TrainingRequest>) => manager.start({ ...request('bad', 1), ...changes }).catch((error: unknown) => error)
      const notGguf = join(dir, 'not-a-model.gguf')
      await Bun.write(notGguf, 'hello')
      expect(await refusal({ baseModel: notGguf })).toMatchObject({ status: 400, param: 'baseModel', message: expect.stringContaining('is not a GGUF model') })
      expect(await refusal({ outputDir: join(dir, 'elsewhere') })).toMatchObject({ status: 400, param: 'outputDir' })
      expect(await refusal({ hyperParams: { maxSeqLength: 100 } })).toMatchObject({ status: 400, param: 'hyperParams.maxSeqLength' })
      expect(await refusal({ hyperParams: { maxSeqLength: 65536 } })).toMatchObject({ status: 400, param: 'hyperParams.maxSeqLength', message: expect.stringContaining('at most 32768') })
      expect(await refusal({ threads: 100_000 })).toMatchObject({ status: 400, param: 'threads' })
      // A bad field is refused before the dataset file is read: this one does not exist.
      expect(await refusal({ datasetPath: join(dir, 'missing.jsonl'), dataset: undefined, hyperParams: { epochs: 0 } })).toMatchObject({ status: 400, param: 'hyperParams.epochs' })
      expect(await refusal({ hyperParams: { warmup: 3 } as never })).toMatchObject({ status: 400, param: 'hyperParams.warmup' })
      expect(await refusal({ loraConfig: { targetModules: ['lm_head'] } })).toMatchObject({ status: 400, param: 'loraConfig.targetModules' })
      expect(await refusal({ loraConfig: { targetModules: ['k_proj', 'v_proj'] } })).toMatchObject({
        status: 400,
        param: 'loraConfig.targetModules',
        message: expect.stringContaining('no gradient to attn_k and attn_v'),
      })
      expect(await refusal({ dataset: { windows: [[1, 2, 3]] } })).toMatchObject({ status: 400, param: 'dataset.windows' })
      expect(manager.list().total).toBe(0)
    } finally {
      await manager.close()
    }
  })

  test('an evalSplit holds the last windows out of training and reports their loss every evalSteps steps', async () => {
    const manager = newManager('eval')
    try {
      const hyperParams = { ...request('', 1).hyperParams, evalSplit: 0.25, evalSteps: 10 }
      const evalAt: Array<[number, number]> = []
      manager.subscribe(({ kind, job }) => {
        const { progress } = job
        if (kind === 'progress' && job.request.outputDir.endsWith('/eval') && progress?.evalLoss !== undefined && evalAt.at(-1)?.[1] !== progress.evalLoss) {
          evalAt.push([progress.currentStep, progress.evalLoss])
        }
      })
      const [evaluated, plain] = await Promise.all(
        [request('eval', 1, { hyperParams }), request('plain', 1, { hyperParams: { ...request('', 1).hyperParams, evalSteps: 10 } })].map(async (r) => finished(manager, (await manager.start(r)).id)),
      )
      expect(evaluated!.status).toBe('completed')
      expect(evaluated!.progress!.evalLoss).toBeGreaterThan(0)
      expect(plain!.progress!.evalLoss).toBeUndefined()
      const steps = evaluated!.progress!.totalSteps
      expect(steps).toBe(Math.floor(plain!.progress!.totalSteps * 0.75))
      // Every 10 steps and at the epoch's end, each a new loss of the same held-out windows, falling as it learns.
      expect(evalAt.map(([step]) => step)).toEqual([...Array.from({ length: Math.ceil(steps / 10) - 1 }, (_, i) => (i + 1) * 10), steps])
      expect(evalAt.at(-1)![1]).toBeLessThan(evalAt[0]![1])
      expect(evaluated!.warnings).toEqual([])
      expect(plain!.warnings).toEqual(['evalSteps 10: no windows are held out for evaluation (evalSplit is 0), so there is no eval loss; set evalSplit'])
    } finally {
      await manager.close()
    }
  })

  test('tokenized windows train as given; a text shorter than a window is repeated to fill one', async () => {
    const manager = newManager('short')
    try {
      const windows = [0, 1].map((w) => Array.from({ length: 257 }, (_, i) => 5 + ((i + w) % 50)))
      const tokenized = await finished(manager, (await manager.start({ ...request('tokenized', 1), dataset: { windows } })).id)
      expect(tokenized.status).toBe('completed')
      expect(tokenized.progress!.totalSteps).toBe(2)
      const job = await manager.start({ ...request('short', 1), dataset: { text: 'too short' } })
      const done = await finished(manager, job.id)
      expect(done.status).toBe('completed')
      expect(done.progress!.totalSteps).toBe(1)
    } finally {
      await manager.close()
    }
  })

  test('a store reopened after a crash fails the job that was running, and keeps the rest', () => {
    const path = join(dir, 'crash.db')
    const crashed = new JobStore(path)
    const running = crashed.create(request('crash', 1))
    crashed.update(running.id, {
      status: 'running',
      startedAt: new Date().toISOString(),
    })
    const queued = crashed.create(request('crash-2', 1))
    // The process "dies": its store is never closed, and a new one opens the same file.
    const reopened = new JobStore(path)
    try {
      expect(reopened.get(running.id)).toMatchObject({
        status: 'failed',
        error: STOPPED_WHILE_RUNNING,
      })
      expect(reopened.get(running.id)!.finishedAt).toBeTruthy()
      expect(reopened.get(queued.id)!.status).toBe('queued')
      expect(reopened.get(running.id)!.request).toEqual(request('crash', 1))
    } finally {
      reopened.close()
      crashed.close()
    }
  })

  test("the adapter's trainer takes its llama.cpp from trainingLibDir (CY_LLAMA_TRAINING_LIB_DIR), not inference's", async () => {
    const lines: string[] = []
    const trainer = createLlamaAdapter({ quiet: true, libDir: join(dir, 'no-such-lib'), trainingLibDir: libDir }).training!.createTrainer({
      storePath: ':memory:',
      allowedDataDirs: [dir],
      allowedOutputDirs: [outRoot],
      resolveModel: () => undefined,
      modelNames: () => [],
      threads: 1,
      log: (line) => void lines.push(line),
    })
    try {
      const done = await finished(trainer, (await trainer.start(request('own-library', 1))).id)
      expect(done.status).toBe('completed')
      // Resolved from the explicit folder (inference's libDir here does not exist, so it was not that one).
      expect(lines.filter((line) => line.endsWith(`from libDir (${libDir})`))).toHaveLength(1)
    } finally {
      await trainer.close()
    }
  })

  test('a store another running server owns is refused, so its running jobs are not failed under it', () => {
    const path = join(dir, 'owned.db')
    const first = new JobStore(path)
    const running = first.create(request('owned', 1))
    first.update(running.id, { status: 'running' })
    first.close()
    // Another live process (this one's parent) holds the file, as a second server would.
    const db = new Database(path)
    db.query('INSERT OR REPLACE INTO store_owner (id, pid) VALUES (1, ?)').run(process.ppid)
    db.close()
    expect(() => new JobStore(path)).toThrow(`belong to another running server (pid ${process.ppid})`)
    // A dead owner's file is taken over, its running job failed.
    const dead = new Database(path)
    dead.query('UPDATE store_owner SET pid = ?').run(2 ** 22 + 12345)
    dead.close()
    const taken = new JobStore(path)
    try {
      expect(taken.get(running.id)).toMatchObject({ status: 'failed', error: STOPPED_WHILE_RUNNING })
    } finally {
      taken.close()
    }
  })

  test('list filters by status, oldest first, with limit and offset', () => {
    const store = new JobStore(':memory:')
    try {
      const ids: string[] = Array.from({ length: 5 }, (_, i) => store.create(request(`list-${i}`, 1)).id)
      for (const id of [ids[0]!, ids[2]!, ids[3]!]) store.update(id, { status: 'completed' })
      const page = store.list({ status: 'completed', limit: 2, offset: 1 })
      expect(page.total).toBe(3)
      expect(page.jobs.map((job) => job.id)).toEqual(ids.slice(2, 4))
      expect(store.list({ status: 'queued' }).jobs.map((job) => job.id)).toEqual([ids[1]!, ids[4]!])
      expect(store.list({ limit: 1, offset: 4 }).jobs.map((job) => job.id)).toEqual(ids.slice(4))
      expect(store.list().total).toBe(5)
    } finally {
      store.close()
    }
  })
})
