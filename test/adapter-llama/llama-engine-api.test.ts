import createLlamaAdapter, { resolveLlamaLibrary } from '@cy/adapter-llama'
import type { LoadedModel } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { publishedSchemas } from '../support/published-schema.ts'
import { sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'
import { referenceGreedy } from './reference-greedy.ts'

// The engine API (/api/v1) on the real llama.cpp and the tiny fixture model, checked against llama.cpp's
// own greedy loop and against /v1/completions on the same request.
let dir: string
let modelPath: string
let libDir: string
let loaded: LoadedModel
let server: Server
let schemas: Awaited<ReturnType<typeof publishedSchemas>>

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-llama-engine-api-'))
  modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
  libDir = (await resolveLlamaLibrary(undefined)).dir
  loaded = await createLlamaAdapter({ quiet: true }).load({ name: 'tiny', adapter: 'llama', path: modelPath, options: { contextSize: 512, threads: 2, parallel: 4 } })
  server = await startTestServer({}, (s) => s.registerModel('tiny', loaded.providers, { metadata: loaded.metadata, supports: loaded.supports }))
  schemas = await publishedSchemas(server.url)
})
afterAll(async () => {
  await server?.stop()
  await loaded?.dispose()
  await rm(dir, { recursive: true, force: true })
})

const post = async (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
const PROMPT = 'Once upon a time'
const greedy = { modelId: 'tiny', prompt: PROMPT, generation: { maxNewTokens: 16, temperature: 0 } }

describe('/api/v1 on llama.cpp', () => {
  test("greedy inference equals llama.cpp's own greedy loop, with usage in real tokens", async () => {
    const response = await post('/api/v1/inference', greedy)
    expect(response.status).toBe(200)
    const body = await response.json()
    schemas.check('post', '/api/v1/inference', 200, body)
    expect(body.choices[0]).toEqual({ index: 0, text: referenceGreedy(libDir, modelPath, PROMPT, 16), finish_reason: 'length' })
    expect(body.usage).toEqual({ prompt_tokens: 1 + 13 + 3 * 3, completion_tokens: 16, total_tokens: 23 + 16 })
  })

  test('the stream concatenates to the same text, and equals /v1/completions on the same request', async () => {
    const stream = await post('/api/v1/inference/stream', greedy)
    const frames = sseFrames(await stream.text()) as Array<{ choices: Array<{ text: string; finish_reason?: string; offset: number }> }>
    for (const frame of frames) schemas.check('post', '/api/v1/inference/stream', 200, frame)
    expect(frames.at(-1)!.choices[0]!.finish_reason).toBe('length')
    expect(frames.map((frame) => frame.choices[0]!.offset)).toEqual(frames.map((_, index) => index))
    const streamed = frames.map((frame) => frame.choices[0]!.text).join('')
    const openai = await (await post('/v1/completions', { model: 'tiny', prompt: PROMPT, max_tokens: 16, temperature: 0, top_p: 0.95 })).json()
    expect(streamed).toBe(openai.choices[0].text)
    expect(streamed).toBe(referenceGreedy(libDir, modelPath, PROMPT, 16))
  })

  test('the seed defaults (maxNewTokens 256, temperature 0.7) and a repetition penalty run on the real engine', async () => {
    const response = await post('/api/v1/inference', { modelId: 'tiny', prompt: PROMPT, generation: { repetitionPenalty: 1.3, maxNewTokens: 8 } })
    expect(response.status).toBe(200)
    expect((await response.json()).usage.completion_tokens).toBeLessThanOrEqual(8)
  })

  test("the model's details come from the loaded model: its context size as maxModelLen", async () => {
    const body = await (await fetch(`${server.url}/api/v1/models/tiny`)).json()
    schemas.check('get', '/api/v1/models/{modelId}', 200, body)
    expect(body).toMatchObject({ id: 'tiny', status: 'ready', maxModelLen: 512, capabilities: expect.arrayContaining(['inference', 'stream', 'chat']) })
  })
})
