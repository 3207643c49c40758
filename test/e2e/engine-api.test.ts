import { OutputChunk, type CompletionRequest } from '@cy/core'
import { createLogger, type Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { publishedSchemas } from '../support/published-schema.ts'
import { sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

// Scripted completion models (test doubles at the handler boundary): the routes, the dispatcher, the
// gateway's pipeline and the sinks under test are the real ones.
let server: Server
let schemas: Awaited<ReturnType<typeof publishedSchemas>>
const seen: CompletionRequest[] = []
const PIECES = ['从', '前', '有']

beforeAll(async () => {
  server = await startTestServer({}, (s) => {
    s.registerCompletion(
      'story',
      (request, out) => {
        seen.push(request)
        if (request.prompt === 'fail midway') {
          out.push(OutputChunk.textDelta('从'))
          out.fail(new Error('the engine died'))
          return
        }
        for (const piece of PIECES) out.push(OutputChunk.textDelta(piece))
        out.push(OutputChunk.usage(15, PIECES.length))
        out.push(OutputChunk.finish('stop'))
        out.end()
      },
      { metadata: { contextSize: 8192, path: '/models/story.gguf', engine: 'llama.cpp', loraAdapters: ['furina'] }, supports: { completion: ['temperature', 'top_p', 'max_tokens', 'repeat_penalty', 'adapter'] } },
    )
  })
  schemas = await publishedSchemas(server.url)
})
afterAll(() => server.stop())

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

describe('POST /api/v1/inference', () => {
  test("answers in the seed's shape, with the seed's defaults reaching the model", async () => {
    seen.length = 0
    const response = await post('/api/v1/inference', { modelId: 'story', prompt: '讲一个故事' })
    expect(response.status).toBe(200)
    const body = await response.json()
    schemas.check('post', '/api/v1/inference', 200, body)
    expect(body.id).toMatch(/^gen-[0-9a-f]{32}$/)
    expect(body).toMatchObject({ modelId: 'story', object: 'text_completion', choices: [{ index: 0, text: '从前有', finish_reason: 'stop' }], usage: { prompt_tokens: 15, completion_tokens: 3, total_tokens: 18 } })
    expect(Object.keys(body).sort()).toEqual(['choices', 'created', 'id', 'modelId', 'object', 'usage'])
    expect(seen[0]).toMatchObject({ model: 'story', prompt: '讲一个故事', max_tokens: 256, temperature: 0.7, top_p: 0.95 })
    // repetitionPenalty 1.0 is no penalty: not sent, so a model that does not declare it still serves.
    expect(seen[0]!.repeat_penalty).toBeUndefined()
    expect(seen[0]!.adapter).toBeUndefined()
  })

  test('generation parameters and the adapter map to the completion request', async () => {
    seen.length = 0
    const response = await post('/api/v1/inference', { modelId: 'story', prompt: 'p', adapter: 'furina', generation: { maxNewTokens: 512, temperature: 0, topP: 0.5, repetitionPenalty: 1.1 } })
    expect(response.status).toBe(200)
    expect(seen[0]).toMatchObject({ max_tokens: 512, temperature: 0, top_p: 0.5, repeat_penalty: 1.1, adapter: 'furina' })
  })
})

describe('POST /api/v1/inference/stream', () => {
  test('SSE frames as the seed shows them, the last with finish_reason, then [DONE]', async () => {
    const response = await post('/api/v1/inference/stream', { modelId: 'story', prompt: '讲一个故事' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith('text/event-stream')
    const text = await response.text()
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
    const frames = sseFrames(text) as Array<{ id: string; object: string; choices: Array<Record<string, unknown>> }>
    expect(frames.length).toBe(PIECES.length + 1)
    const id = frames[0]!.id
    expect(id).toMatch(/^gen-/)
    frames.forEach((frame, offset) => {
      schemas.check('post', '/api/v1/inference/stream', 200, frame)
      expect(frame.id).toBe(id)
      expect(frame.object).toBe('text_completion.chunk')
      const text = PIECES[offset] ?? ''
      expect(frame.choices).toEqual([offset < PIECES.length ? { index: 0, text, offset } : { index: 0, text: '', finish_reason: 'stop', offset }])
    })
    // Byte for byte, the seed's frame: field order included.
    expect(text.startsWith(`data: {"id":"${id}","object":"text_completion.chunk","choices":[{"index":0,"text":"从","offset":0}]}\n\n`)).toBe(true)
  })
})

describe('POST /api/v1/inference/streamWithMetadata', () => {
  const metadata = { traceId: 'trace-001', tenant: 'tenant-123', playerId: 'player-456', locale: 'zh-CN' }

  test('every frame echoes the metadata; traceId is the x-request-id', async () => {
    const response = await post('/api/v1/inference/streamWithMetadata', { modelId: 'story', prompt: '请用中文回答', metadata })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-request-id')).toBe('trace-001')
    const frames = sseFrames(await response.text()) as Array<{ metadata: unknown; choices: Array<{ text: string }> }>
    expect(frames.length).toBe(PIECES.length + 1)
    for (const frame of frames) {
      schemas.check('post', '/api/v1/inference/streamWithMetadata', 200, frame)
      expect(frame.metadata).toEqual(metadata)
    }
    expect(frames.map((frame) => frame.choices[0]!.text).join('')).toBe('从前有')
  })

  test("without a traceId, a W3C traceparent's trace id is the request id, echoed as traceId", async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const response = await post('/api/v1/inference/streamWithMetadata', { modelId: 'story', prompt: 'p', metadata: { tenant: 't' } }, { traceparent })
    expect(response.headers.get('x-request-id')).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    const frames = sseFrames(await response.text()) as Array<{ metadata: Record<string, string> }>
    expect(frames[0]!.metadata).toEqual({ tenant: 't', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' })
  })

  test('a body traceId wins over x-request-id and traceparent; an invalid traceparent is ignored', async () => {
    const both = await post('/api/v1/inference/streamWithMetadata', { modelId: 'story', prompt: 'p', metadata: { traceId: 'mine' } }, { 'x-request-id': 'header-id', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })
    expect(both.headers.get('x-request-id')).toBe('mine')
    await both.text()
    const invalid = await post('/api/v1/inference/stream', { modelId: 'story', prompt: 'p' }, { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' })
    expect(invalid.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/)
    await invalid.text()
  })

  test('a traceId that is no safe header value is an INVALID_REQUEST naming metadata.traceId', async () => {
    const response = await post('/api/v1/inference/streamWithMetadata', { modelId: 'story', prompt: 'p', metadata: { traceId: 'has space' } })
    expect(response.status).toBe(400)
    const body = await response.json()
    schemas.check('post', '/api/v1/inference/streamWithMetadata', 400, body)
    expect(body.error.code).toBe('INVALID_REQUEST')
    expect(body.error.details[0].field).toBe('metadata.traceId')
  })
})

describe('errors on /api/v1: the seed shape, the seed codes and statuses', () => {
  const cases: Array<[string, unknown, number, string, string | null]> = [
    ['a missing modelId', { prompt: 'p' }, 400, 'INVALID_REQUEST', 'modelId'],
    ['a bad generation value', { modelId: 'story', prompt: 'p', generation: { topP: 3 } }, 400, 'INVALID_REQUEST', 'generation.topP'],
    ['an unknown generation field', { modelId: 'story', prompt: 'p', generation: { topK: 3 } }, 400, 'INVALID_REQUEST', 'generation.topK'],
    ['an unknown model', { modelId: 'model-not-found', prompt: 'p' }, 404, 'MODEL_NOT_FOUND', 'modelId'],
  ]
  for (const [what, body, status, code, field] of cases) {
    test(`${what}: ${status} ${code} naming ${field}`, async () => {
      for (const path of ['/api/v1/inference', '/api/v1/inference/stream']) {
        const response = await post(path, body)
        expect(response.status).toBe(status)
        const json = await response.json()
        schemas.check('post', path, status, json)
        expect(json.error.code).toBe(code)
        expect(json.error.message).toBeString()
        expect(json.error.details).toHaveLength(1)
        expect(json.error.details[0].field).toBe(field)
        expect(json.error.details[0].type).toBeString()
        expect(json.error.details[0].description).toBeString()
      }
    })
  }

  test('invalid JSON is INVALID_REQUEST; /v1 keeps the OpenAI shape for the same mistake', async () => {
    const engine = await fetch(`${server.url}/api/v1/inference`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })
    expect(engine.status).toBe(400)
    expect((await engine.json()).error).toMatchObject({ code: 'INVALID_REQUEST', details: [{ type: 'invalid_json', field: null }] })
    const openai = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })
    expect((await openai.json()).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json', param: null })
  })

  test('an unknown /api/v1 route is a 404 in the seed shape', async () => {
    const response = await fetch(`${server.url}/api/v1/nowhere`)
    expect(response.status).toBe(404)
    expect((await response.json()).error.code).toBe('NOT_FOUND')
  })

  test('a model that does not declare adapters refuses one: INVALID_REQUEST naming adapter', async () => {
    server.registerCompletion('plain', (_request, out) => out.end())
    try {
      const response = await post('/api/v1/inference', { modelId: 'plain', prompt: 'p', adapter: 'furina' })
      expect(response.status).toBe(400)
      expect((await response.json()).error).toMatchObject({ code: 'INVALID_REQUEST', details: [{ type: 'unsupported_parameter', field: 'adapter' }] })
    } finally {
      server.unregisterModel('plain')
    }
  })
})

describe('an engine failure', () => {
  test('before any output: 502 INTERNAL_ERROR; after it: an error frame in the seed shape', async () => {
    const json = await post('/api/v1/inference', { modelId: 'story', prompt: 'fail midway' })
    expect(json.status).toBe(502)
    const body = await json.json()
    schemas.check('post', '/api/v1/inference', 502, body)
    expect(body.error).toMatchObject({ code: 'INTERNAL_ERROR', message: 'the engine died' })
    const stream = await post('/api/v1/inference/stream', { modelId: 'story', prompt: 'fail midway' })
    const text = await stream.text()
    const frames = sseFrames(text) as Array<Record<string, any>>
    expect(frames.at(-1)!.error).toMatchObject({ code: 'INTERNAL_ERROR', message: 'the engine died', details: [{ type: 'provider_error', field: null }] })
    expect(text).not.toContain('[DONE]')
  })
})

describe('GET /api/v1/models', () => {
  test("lists the registry's models in the seed's shape", async () => {
    const response = await fetch(`${server.url}/api/v1/models`)
    expect(response.status).toBe(200)
    const body = await response.json()
    schemas.check('get', '/api/v1/models', 200, body)
    expect(body.models).toEqual([
      { id: 'story', name: 'story', engine: 'llama.cpp', status: 'ready', capabilities: ['inference', 'stream', 'completion'], maxModelLen: 8192, loraAdapters: ['furina'] },
    ])
  })

  test('one model with modelPath and config; an unknown one is MODEL_NOT_FOUND', async () => {
    const response = await fetch(`${server.url}/api/v1/models/story`)
    const body = await response.json()
    schemas.check('get', '/api/v1/models/{modelId}', 200, body)
    expect(body).toMatchObject({ id: 'story', modelPath: '/models/story.gguf', status: 'ready', config: { maxModelLen: 8192 }, loraAdapters: ['furina'] })
    const missing = await fetch(`${server.url}/api/v1/models/nope`)
    expect(missing.status).toBe(404)
    const error = await missing.json()
    schemas.check('get', '/api/v1/models/{modelId}', 404, error)
    expect(error.error).toMatchObject({ code: 'MODEL_NOT_FOUND', details: [{ field: 'modelId' }] })
  })
})

describe('GET /api/v1/health', () => {
  test("UP, in the seed's shape", async () => {
    const body = await (await fetch(`${server.url}/api/v1/health`)).json()
    schemas.check('get', '/api/v1/health', 200, body)
    expect(body).toMatchObject({ status: 'UP', components: { gateway: 'UP', coordinator: 'UP', models: 'UP' } })
    expect(Date.parse(body.timestamp)).toBeGreaterThan(0)
  })

  test('details: uptime, this process as the one worker, the queue from the limiter', async () => {
    const body = await (await fetch(`${server.url}/api/v1/health/details`)).json()
    schemas.check('get', '/api/v1/health/details', 200, body)
    expect(body.components.gateway.details.uptime).toMatch(/^\d+h\d+m\d+s$/)
    expect(body.components.coordinator.details).toMatchObject({ mode: 'standalone', workers: { total: 1, healthy: 1, unhealthy: 0 }, queue: { pendingTasks: 0, maxSize: 1024 } })
  })

  test("a cluster master's workers are counted", async () => {
    server.setHealthDetail('cluster', () => ({ mode: 'master', workers: [{ id: 'a' }, { id: 'b' }] }))
    try {
      const body = await (await fetch(`${server.url}/api/v1/health/details`)).json()
      expect(body.components.coordinator.details).toMatchObject({ mode: 'cluster', workers: { total: 2, healthy: 2, unhealthy: 0 } })
      server.setHealthDetail('cluster', () => ({ mode: 'master', workers: [] }))
      const none = await (await fetch(`${server.url}/api/v1/health`)).json()
      expect(none).toMatchObject({ status: 'DOWN', components: { coordinator: 'DOWN' } })
    } finally {
      server.setHealthDetail('cluster', null)
    }
  })
})

describe('metadata in the access log', () => {
  test('the line of a request carries its traceId as request_id, its tenant label, player and locale', async () => {
    const lines: Array<Record<string, unknown>> = []
    const written = Promise.withResolvers<Record<string, unknown>>()
    server.setLogger(
      createLogger({
        format: 'json',
        destination: {
          write(text: string) {
            const line = JSON.parse(text) as Record<string, unknown>
            lines.push(line)
            if (line.request_id === 'trace-log-1') written.resolve(line)
          },
        },
      }),
    )
    try {
      const metadata = { traceId: 'trace-log-1', tenant: 'tenant-123', playerId: 'player-456', locale: 'zh-CN' }
      await (await post('/api/v1/inference/streamWithMetadata', { modelId: 'story', prompt: 'p', metadata })).text()
      expect(await written.promise).toMatchObject({
        request_id: 'trace-log-1',
        route: '/api/v1/inference/streamWithMetadata',
        model: 'story',
        status: 200,
        // No `tenants` configured: every tenant counts as `other` (clients cannot make up metrics labels).
        tenant: 'other',
        player_id: 'player-456',
        locale: 'zh-CN',
      })
    } finally {
      server.setLogger(createLogger({ level: 'silent' }))
    }
  })
})

describe('/api/v1/training without a trainer', () => {
  test('start says training is off (400), the list is empty, and a body that breaks the schema is refused naming the field', async () => {
    const off = await post('/api/v1/training/start', { baseModel: 'story', outputDir: '/tmp/x', datasetPath: '/tmp/d.jsonl' })
    expect(off.status).toBe(400)
    const body = await off.json()
    schemas.check('post', '/api/v1/training/start', 400, body)
    expect(body.error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('Training is off') })
    const list = await (await fetch(`${server.url}/api/v1/training/list`)).json()
    expect(list).toEqual({ jobs: [], total: 0, limit: 100, offset: 0 })
    const typo = await (await post('/api/v1/training/start', { baseModel: 'story', outputDir: '/tmp/x', hyperParams: { epoch: 2 } })).json()
    expect(typo.error).toMatchObject({ code: 'INVALID_REQUEST', details: [{ field: expect.stringContaining('hyperParams') }] })
  })
})

describe('OpenAPI', () => {
  test('every /api/v1 route is documented, tagged, with its request body schema', () => {
    const paths = Object.entries(schemas.spec.paths).filter(([path]) => path.startsWith('/api/v1/'))
    const documented = paths.flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`)).sort()
    expect(documented).toEqual([
      'get /api/v1/health',
      'get /api/v1/health/details',
      'get /api/v1/models',
      'get /api/v1/models/{modelId}',
      'post /api/v1/inference',
      'post /api/v1/inference/stream',
      'post /api/v1/inference/streamWithMetadata',
      'get /api/v1/training/list',
      'get /api/v1/training/status/{jobId}',
      'post /api/v1/training/cancel/{jobId}',
      'post /api/v1/training/pause/{jobId}',
      'post /api/v1/training/resume/{jobId}',
      'post /api/v1/training/start',
    ].sort())
    for (const [, methods] of paths) {
      for (const operation of Object.values(methods) as Array<{ tags?: string[]; requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>) {
        expect(operation.tags?.[0]).toStartWith('Engine API')
      }
    }
    const inference = (schemas.spec.paths['/api/v1/inference']!.post as unknown as { requestBody: { content: Record<string, { schema: { required: string[] } }> } }).requestBody
    expect(inference.content['application/json']!.schema.required).toEqual(['modelId', 'prompt'])
    const training = (schemas.spec.paths['/api/v1/training/start']!.post as unknown as { requestBody: { content: Record<string, { schema: { required: string[] } }> } }).requestBody
    expect(training.content['application/json']!.schema.required).toEqual(['baseModel', 'outputDir'])
  })
})
