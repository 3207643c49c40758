import createLlamaAdapter from '@cy/adapter-llama'
import type { LoadedModel } from '@cy/core'
import { GrpcServer } from '@cy/grpc'
import type { Server } from '@cy/http'
import { status, type ClientReadableStream } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { clients, collect, streamText, withKey, type PredictResponse } from '../grpc/grpc-support.ts'
import { startTestServer } from '../support/test-server.ts'

const KEY = 'engine-key'
let dir: string
let loaded: LoadedModel
let server: Server
let grpcServer: GrpcServer
let client: ReturnType<typeof clients>

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-llama-grpc-'))
  const path = await writeTinyLlama(join(dir, 'tiny.gguf'))
  loaded = await createLlamaAdapter({ quiet: true }).load({ name: 'tiny', adapter: 'llama', path, options: { contextSize: 256, threads: 2, parallel: 1 } })
  // One slot and no queue: a call that found the slot still taken would be refused at once.
  server = await startTestServer({ apiKey: KEY }, (s) => s.registerModel('tiny', loaded.providers, { ...(loaded.supports ? { supports: loaded.supports } : {}), limits: { maxConcurrency: 1, maxQueue: 0 } }))
  grpcServer = new GrpcServer(server.context)
  client = clients(`127.0.0.1:${await grpcServer.start(0)}`)
})

afterAll(async () => {
  client?.close()
  await grpcServer?.stop()
  await server?.stop()
  await loaded?.dispose()
  await rm(dir, { recursive: true, force: true })
})

const predict = (request: object) => client.ai.StreamPredict!(request, withKey(KEY)) as ClientReadableStream<PredictResponse>

describe('StreamPredict on llama.cpp (tiny fixture)', () => {
  test("a greedy stream's chunks concatenate to POST /api/v1/inference's text for the same request", async () => {
    const { responses, error } = await collect(predict({ model_id: 'tiny', prompt: 'The quick brown', generation: { temperature: 0, max_new_tokens: 24 } }))
    expect(error).toBeUndefined()
    // Several chunks, each a piece of the text: a stream, not one message.
    expect(responses.length).toBeGreaterThan(3)
    const rest = await fetch(`${server.url}/api/v1/inference`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ modelId: 'tiny', prompt: 'The quick brown', generation: { temperature: 0, maxNewTokens: 24 } }),
    })
    expect(rest.status).toBe(200)
    const text = ((await rest.json()) as { choices: Array<{ text: string }> }).choices[0]!.text
    expect(text.length).toBeGreaterThan(0)
    expect(streamText(responses)).toBe(text)
  })

  test('a cancelled call frees the model’s only slot at once, long before its generation would have ended: the next call runs', async () => {
    const long = { model_id: 'tiny', prompt: 'Once', generation: { temperature: 0, max_new_tokens: 240 } }
    const startedAt = performance.now()
    const whole = await collect(predict(long))
    const wholeMs = performance.now() - startedAt
    expect(whole.responses.length).toBeGreaterThan(100)

    const first = predict(long)
    const firstChunk = new Promise((resolve) => first.once('data', resolve))
    const firstDone = collect(first)
    await firstChunk
    const cancelledAt = performance.now()
    first.cancel()
    const cancelled = await firstDone
    expect(cancelled.error?.code).toBe(status.CANCELLED)
    expect(cancelled.responses.some((response) => response.end_of_stream)).toBe(false)
    // The server hears of the cancel a moment after the client: the slot comes back then, not at the generation's end.
    const limiter = server.registry.limiter('tiny')!
    while (limiter.active > 0) await new Promise((resolve) => setImmediate(resolve))
    expect(performance.now() - cancelledAt).toBeLessThan(wholeMs / 2)
    const { responses, error } = await collect(predict({ ...long, generation: { temperature: 0, max_new_tokens: 4 } }))
    expect(error).toBeUndefined()
    expect(responses.at(-1)?.end_of_stream).toBe(true)
  })
})
