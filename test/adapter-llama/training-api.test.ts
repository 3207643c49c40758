import { resolveLlamaLibrary } from '@cy/adapter-llama'
import { startApp, type RunningApp } from '@cy/server'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { publishedSchemas } from '../support/published-schema.ts'
import { clients, collect } from '../grpc/grpc-support.ts'
import { referenceGreedy } from './reference-greedy.ts'

// The training API (/api/v1/training) end to end: the server app with the llama adapter, the tiny f32
// llama served from its models folder, jobs trained in their own engine processes on dataset files, and
// the adapter a job produces served at once under the model, equal to llama.cpp's own run with it.
let dir: string
let app: RunningApp
let libDir: string
let modelPath: string
let datasets: string
let outputs: string
let schemas: Awaited<ReturnType<typeof publishedSchemas>>

const SENTENCE = 'Quick fox.'
const PREFIX = 'Quick'

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-training-api-'))
  await mkdir(join(dir, 'models'))
  modelPath = await writeTinyLlama(join(dir, 'models', 'tiny.gguf'))
  libDir = (await resolveLlamaLibrary(undefined)).dir
  datasets = join(dir, 'training', 'datasets')
  outputs = join(dir, 'training', 'output')
  await mkdir(datasets, { recursive: true })
  // One short sentence, repeated: each record ends with the model's EOS.
  await writeFile(join(datasets, 'sentence.jsonl'), `${JSON.stringify({ text: SENTENCE })}\n`.repeat(600))
  app = await startApp(
    {
      adapterPaths: [],
      quiet: true,
      port: 0,
      modelsDir: join(dir, 'models'),
      responsesDb: ':memory:',
      logLevel: 'silent',
      grpcPort: 0,
      training: { dir: join(dir, 'training'), threads: 1 },
    },
    () => {},
  )
  await app.loads
  schemas = await publishedSchemas(app.url)
}, 60_000)

afterAll(async () => {
  await app?.stop()
  await rm(dir, { recursive: true, force: true })
})

const post = (path: string, body?: unknown) =>
  fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
const get = (path: string) => fetch(`${app.url}${path}`)

const job = (name: string, extra: Record<string, unknown> = {}) => ({
  baseModel: 'tiny',
  outputDir: join(outputs, name),
  datasetPath: join(datasets, 'sentence.jsonl'),
  hyperParams: { epochs: 2, learningRate: 3e-3, maxSeqLength: 256, batchSize: 1 },
  loraConfig: { r: 16, loraAlpha: 16 },
  ...extra,
})

async function start(body: unknown): Promise<string> {
  const response = await post('/api/v1/training/start', body)
  const answer = await response.json()
  expect(response.status, JSON.stringify(answer)).toBe(200)
  schemas.check('post', '/api/v1/training/start', 200, answer)
  return answer.jobId
}

async function status(id: string): Promise<Record<string, any>> {
  const response = await get(`/api/v1/training/status/${id}`)
  const body = await response.json()
  expect(response.status).toBe(200)
  schemas.check('get', '/api/v1/training/status/{jobId}', 200, body)
  return body
}

/** The job's status once `done` holds (REST is what a client polls). */
async function until(id: string, done: (body: Record<string, any>) => boolean): Promise<Record<string, any>> {
  for (;;) {
    const body = await status(id)
    if (done(body)) return body
    await Bun.sleep(25)
  }
}
const FINISHED = new Set(['completed', 'failed', 'cancelled'])
const finished = (id: string) => until(id, (body) => FINISHED.has(body.status))

async function refusal(response: Response, status: number): Promise<{ code: string; message: string; details: Array<Record<string, unknown>> }> {
  const body = await response.json()
  expect(response.status, JSON.stringify(body)).toBe(status)
  expect(body.error.message).not.toContain('    at ')
  return body.error
}

const inference = async (adapter?: string) => {
  const response = await post('/api/v1/inference', { modelId: 'tiny', prompt: PREFIX, ...(adapter ? { adapter } : {}), generation: { maxNewTokens: 8, temperature: 0 } })
  const body = await response.json()
  expect(response.status, JSON.stringify(body)).toBe(200)
  return body.choices[0].text as string
}

describe('/api/v1/training on llama.cpp', () => {
  test('a job on a dataset file halves its loss in two epochs; its adapter is listed under the model and continues the sentence, as llama.cpp itself does with it', async () => {
    const id = await start(job('sentence'))
    const done = await finished(id)
    expect(done.error).toBeUndefined()
    expect(done.status).toBe('completed')
    expect(done.progress).toMatchObject({ currentEpoch: 2, currentStep: done.progress.totalSteps })
    expect(done.result.epochLosses).toHaveLength(2)
    expect(done.result.finalLoss).toBeLessThan(done.result.firstLoss / 2)
    expect(done.warnings).toEqual([])
    const adapter = done.result.adapter
    expect(adapter).toMatchObject({ name: 'sentence', model: 'tiny', rank: 16, alpha: 16, path: join(outputs, 'sentence', 'adapter.gguf') })
    expect(adapter.maxRelativeError).toBeGreaterThanOrEqual(0)
    expect(adapter.maxRelativeError).toBeLessThan(1)

    // Listed under the served model at once, and usable by name.
    const model = await (await get('/api/v1/models/tiny')).json()
    expect(model.loraAdapters).toContain('sentence')
    const tuned = await inference('sentence')
    const base = await inference()
    expect(tuned).toContain('fox.')
    expect(base).not.toContain('fox.')
    // llama.cpp's own loop with the adapter file applied (llama_adapter_lora_init) prints the same text.
    expect(tuned).toBe(referenceGreedy(libDir, modelPath, PREFIX, 8, { loras: [{ path: adapter.path, scale: 1 }] }))
    expect(base).toBe(referenceGreedy(libDir, modelPath, PREFIX, 8))
  })

  test('pause holds a running job and resume goes on; cancel stops it and leaves its last checkpoint; a busy outputDir is TRAINING_JOB_RUNNING; list filters and pages', async () => {
    const id = await start(job('long', { hyperParams: { epochs: 200, learningRate: 1e-4, maxSeqLength: 256, batchSize: 1, saveSteps: 1 } }))
    const checkpointed = await until(id, (body) => body.progress?.checkpointStep !== undefined)
    expect(checkpointed.status).toBe('running')
    expect(existsSync(join(outputs, 'long', 'checkpoint.gguf'))).toBe(true)

    const busy = await refusal(await post('/api/v1/training/start', job('long')), 400)
    expect(busy.code).toBe('TRAINING_JOB_RUNNING')
    expect(busy.details[0]).toMatchObject({ field: 'outputDir' })
    // The event loop is free while a job trains (it runs in a process of its own).
    expect((await get('/health')).status).toBe(200)

    // Paused, it keeps its step; resumed, it goes on; a resume of a job that is not paused is a 409.
    const paused = await (await post(`/api/v1/training/pause/${id}`)).json()
    schemas.check('post', '/api/v1/training/pause/{jobId}', 200, paused)
    expect(paused).toMatchObject({ jobId: id, status: 'paused' })
    const held = (await status(id)).progress.currentStep
    await Bun.sleep(300)
    expect(await status(id)).toMatchObject({ status: 'paused', progress: { currentStep: held } })
    expect((await (await post(`/api/v1/training/resume/${id}`)).json()).jobId).toBe(id)
    expect((await until(id, (body) => body.status === 'running' && body.progress.currentStep > held)).progress.currentStep).toBeGreaterThan(held)
    expect((await refusal(await post('/api/v1/training/resume/' + id), 409)).code).toBe('CONFLICT')
    // A paused job can be cancelled.
    expect((await (await post(`/api/v1/training/pause/${id}`)).json()).status).toBe('paused')

    const cancelled = await post(`/api/v1/training/cancel/${id}`)
    const answer = await cancelled.json()
    expect(cancelled.status).toBe(200)
    schemas.check('post', '/api/v1/training/cancel/{jobId}', 200, answer)
    expect(answer).toEqual({ jobId: id, status: 'cancelled', message: 'Training job has been cancelled' })
    const after = await status(id)
    expect(after.progress.currentStep).toBeLessThan(after.progress.totalSteps)
    expect(existsSync(join(outputs, 'long', 'checkpoint.gguf'))).toBe(true)
    expect(existsSync(join(outputs, 'long', 'model.gguf'))).toBe(false)
    // A new job goes on from the checkpoint (a path in an output folder; not a served model, so nothing is published).
    const resumed = await finished(await start(job('from-checkpoint', { baseModel: join(outputs, 'long', 'checkpoint.gguf'), hyperParams: { epochs: 1, learningRate: 1e-4, maxSeqLength: 256, batchSize: 1 } })))
    expect(resumed.status).toBe('completed')
    expect(resumed.result.adapter.name).toBeUndefined()
    expect(existsSync(join(outputs, 'from-checkpoint', 'adapter.gguf'))).toBe(true)

    const list = async (query: string) => {
      const response = await get(`/api/v1/training/list${query}`)
      const body = await response.json()
      expect(response.status).toBe(200)
      schemas.check('get', '/api/v1/training/list', 200, body)
      return body
    }
    const all = await list('')
    expect(all).toMatchObject({ limit: 100, offset: 0 })
    expect(all.total).toBeGreaterThanOrEqual(2)
    const ids = all.jobs.map((entry: { jobId: string }) => entry.jobId)
    expect(ids).toContain(id)
    const onlyCancelled = await list('?status=cancelled')
    expect(onlyCancelled.jobs.every((entry: { status: string }) => entry.status === 'cancelled')).toBe(true)
    expect(onlyCancelled.jobs.map((entry: { jobId: string }) => entry.jobId)).toContain(id)
    const page = await list('?limit=1&offset=1')
    expect(page).toMatchObject({ total: all.total, limit: 1, offset: 1 })
    expect(page.jobs.map((entry: { jobId: string }) => entry.jobId)).toEqual([ids[1]])
    const bad = await refusal(await get('/api/v1/training/list?status=sleeping'), 400)
    expect(bad.code).toBe('INVALID_REQUEST')
  })

  test('the same job through gRPC StartTraining streams progress whose losses are the REST status’s', async () => {
    const grpc = clients(`127.0.0.1:${app.grpc!.port}`)
    try {
      const stream = grpc.training.StartTraining!({
        base_model: 'tiny',
        output_dir: join(outputs, 'grpc'),
        dataset_path: join(datasets, 'sentence.jsonl'),
        hyper_params: { epochs: 2, learning_rate: 3e-3, max_seq_length: 256, batch_size: 1 },
        lora_config: { r: 16, lora_alpha: 16 },
      })
      const { responses, error } = (await collect(stream as never)) as unknown as { responses: Array<Record<string, any>>; error?: Error }
      expect(error).toBeUndefined()
      const last = responses.at(-1)!
      expect(last.status).toBe('COMPLETED')
      const rest = await status(last.job_id)
      expect(rest.status).toBe('completed')
      expect(last.metrics.loss).toBe(rest.progress.loss)
      expect(last.progress).toMatchObject({ current_epoch: rest.progress.currentEpoch, current_step: rest.progress.currentStep, total_steps: rest.progress.totalSteps })
      expect(last.result.final_loss).toBe(rest.result.finalLoss)
      expect(last.result.epoch_losses).toEqual(rest.result.epochLosses)
      expect(last.result.adapter).toMatchObject({ name: 'grpc', max_relative_error: rest.result.adapter.maxRelativeError })
      // Every progress message is a step of the job, in order, ending where the REST status ends.
      const steps = responses.flatMap((message) => (message.metrics ? [message.progress.current_step] : []))
      expect(steps).toEqual([...steps].sort((a, b) => a - b))
      expect(steps.at(-1)).toBe(rest.progress.totalSteps)
    } finally {
      grpc.close()
    }
  })

  test('unknown jobs, datasets outside the data folder or malformed, and unknown models are refused in the seed’s shape', async () => {
    for (const response of [await get('/api/v1/training/status/train-nope'), await post('/api/v1/training/cancel/train-nope')]) {
      expect((await refusal(response, 404)).code).toBe('TRAINING_JOB_NOT_FOUND')
    }
    const outside = join(dir, 'outside.jsonl')
    await writeFile(outside, `${JSON.stringify({ text: SENTENCE })}\n`)
    const away = await refusal(await post('/api/v1/training/start', job('away', { datasetPath: outside })), 400)
    // Read before toMatchObject below, which (in this Bun) leaves its matchers in the object it checked.
    expect(away.details[0]!.description).toStartWith('datasetPath ')
    expect(away.code).toBe('INVALID_REQUEST')
    expect(away.details[0]).toMatchObject({ field: 'datasetPath', description: expect.stringContaining('not inside an allowed data folder') })

    await writeFile(join(datasets, 'broken.jsonl'), `${JSON.stringify({ text: SENTENCE })}\n{"text": \n`)
    const broken = await refusal(await post('/api/v1/training/start', job('broken', { datasetPath: join(datasets, 'broken.jsonl') })), 400)
    expect(broken.code).toBe('INVALID_REQUEST')
    expect(broken.details[0]).toMatchObject({ field: 'datasetPath', line: 2, description: expect.stringMatching(/^line 2: /) })

    await writeFile(join(datasets, 'shapeless.jsonl'), `${JSON.stringify({ text: SENTENCE })}\n${JSON.stringify({ text: SENTENCE })}\n${JSON.stringify({ question: 'x' })}\n`)
    const shapeless = await refusal(await post('/api/v1/training/start', job('shapeless', { datasetPath: join(datasets, 'shapeless.jsonl') })), 400)
    expect(shapeless.details[0]).toMatchObject({ field: 'datasetPath', line: 3 })

    const unknown = await refusal(await post('/api/v1/training/start', job('unknown', { baseModel: 'gpt-9' })), 400)
    expect(unknown.details[0]).toMatchObject({ field: 'baseModel', description: expect.stringContaining('available: tiny') })
    // Only a dataset's record has a line (Bun sets `line` on every Error: it must not leak here).
    expect(unknown.details[0]!.line).toBeUndefined()
    expect(away.details[0]!.line).toBeUndefined()
    const path = await refusal(await post('/api/v1/training/start', job('path', { baseModel: modelPath })), 400)
    expect(path.details[0]).toMatchObject({ field: 'baseModel', description: expect.stringContaining('not inside an allowed data or output folder') })
    const escape = await refusal(await post('/api/v1/training/start', job('esc', { outputDir: join(dir, 'elsewhere') })), 400)
    expect(escape.details[0]).toMatchObject({ field: 'outputDir' })
    const typo = await refusal(await post('/api/v1/training/start', job('typo', { hyperParams: { epochs: 0 } })), 400)
    expect(typo.details[0]!.field).toBe('hyperParams.epochs')
  })

  test('a {"messages"} dataset trains through the model’s chat template, with a warning that the loss covers every token', async () => {
    const messages = [
      { role: 'user', content: 'Who is quick?' },
      { role: 'assistant', content: 'The fox.' },
    ]
    await writeFile(join(datasets, 'chat.jsonl'), `${JSON.stringify({ messages })}\n`.repeat(40))
    const id = await start(
      job('chat', {
        datasetPath: join(datasets, 'chat.jsonl'),
        hyperParams: { epochs: 1, learningRate: 3e-3, maxSeqLength: 256, batchSize: 1 },
        // The seed's example modules: v_proj cannot train in llama.cpp, which the job says twice.
        loraConfig: { r: 8, loraAlpha: 16, targetModules: ['q_proj', 'v_proj'] },
      }),
    )
    const done = await finished(id)
    expect(done.status).toBe('completed')
    expect(done.warnings).toContainEqual(expect.stringContaining('cannot mask labels'))
    expect(done.warnings).toContainEqual(expect.stringMatching(/^v_proj: /))
    const { adapter } = done.result
    expect(adapter).toMatchObject({ name: 'chat', rank: 8, alpha: 16 })
    expect(adapter.tensors.map((tensor: { name: string }) => tensor.name)).toEqual(['blk.0.attn_q.weight', 'blk.1.attn_q.weight'])
    expect(adapter.skipped.map((tensor: { name: string }) => tensor.name)).toEqual(['blk.0.attn_v.weight', 'blk.1.attn_v.weight'])
  })
})
