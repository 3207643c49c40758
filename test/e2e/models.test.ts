import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

let server: Server

beforeAll(async () => {
  server = await startTestServer({}, (s) => {
    s.registerChat('qwen-0.6b', (_req, out) => out.end())
    s.registerChat('qwen-7b', (_req, out) => out.end())
    s.registerEmbedding('qwen-0.6b', (_req, out) => out.end())
    s.registerASR('whisper-1', (_req, out) => out.end(), { ownedBy: 'whisper.cpp' })
  })
})
afterAll(() => server.stop())

describe('models', () => {
  test('GET /v1/models lists every model once, matching the schema', async () => {
    const { client, last } = recordingClient(server.url)
    const ids = []
    for await (const model of client.models.list()) ids.push(model.id)
    expect(ids).toEqual(['qwen-0.6b', 'qwen-7b', 'whisper-1'])
    assertMatchesSchema('ListModelsResponse', JSON.parse((await last()).text))
  })

  test('GET /v1/models/{model} retrieves one, and 404s for an unknown one', async () => {
    const { client, last } = recordingClient(server.url)
    const model = await client.models.retrieve('whisper-1')
    expect(model).toMatchObject({ id: 'whisper-1', object: 'model', owned_by: 'whisper.cpp' })
    assertMatchesSchema('Model', JSON.parse((await last()).text))
    // The SDK's APIPromise is lazy, so catch it explicitly rather than through expect().rejects.
    expect(await client.models.retrieve('gpt-5').catch((error: unknown) => error)).toBeInstanceOf(OpenAI.NotFoundError)
    assertMatchesSchema('ErrorResponse', JSON.parse((await last()).text))
  })

  test('the library API: listModels, hasModel, unregisterModel', async () => {
    expect(server.listModels()).toEqual(['qwen-0.6b', 'qwen-7b', 'whisper-1'])
    expect(server.hasModel('qwen-7b')).toBe(true)
    expect(server.unregisterModel('qwen-7b')).toBe(true)
    expect(server.hasModel('qwen-7b')).toBe(false)
    expect(server.unregisterModel('qwen-7b')).toBe(false)
    const { client } = recordingClient(server.url)
    const error = await client.chat.completions.create({ model: 'qwen-7b', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
  })

  test('GET /health answers with the load', async () => {
    const health = await (await fetch(`${server.url}/health`)).json()
    expect(health).toMatchObject({ status: 'ok', models: 2, requests: { active: 0, queued: 0, max_concurrency: null } })
  })
})
