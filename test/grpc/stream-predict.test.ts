import { OutputChunk, type CompletionRequest } from '@cy/core'
import { GrpcServer } from '@cy/grpc'
import { createLogger, type Server } from '@cy/http'
import { status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestServer } from '../support/test-server.ts'
import { clients, collect, streamText, unary, withKey, type PredictResponse } from './grpc-support.ts'

const KEY = 'grpc-secret'
/** The access lines the server writes, parsed. */
const lines: Array<Record<string, unknown>> = []
let onLine: (() => void) | undefined
const logged = (id: string): Promise<Record<string, unknown>> =>
  new Promise((resolve) => {
    const look = () => {
      const line = lines.find((entry) => entry.request_id === id)
      if (line) resolve(line)
      else onLine = look
    }
    look()
  })
let server: Server
let grpcServer: GrpcServer
let client: ReturnType<typeof clients>
const seen: CompletionRequest[] = []
/** The worker hint each request's sink carried (what a cluster master's replica choice reads). */
const hints: Array<string | undefined> = []

/** Requests of the one-slot model, each running until the test lets it finish (or its client leaves). */
const held: Array<{ request: CompletionRequest; finish: () => void; aborted: Promise<void> }> = []
let onHeld: (() => void) | undefined

/** Resolves once `count` requests of the one-slot model have started. */
function heldCount(count: number): Promise<void> {
  if (held.length >= count) return Promise.resolve()
  return new Promise((resolve) => (onHeld = () => held.length >= count && resolve()))
}

beforeAll(async () => {
  const destination = { write: (text: string) => (lines.push(JSON.parse(text) as Record<string, unknown>), onLine?.()) }
  server = await startTestServer({ apiKey: KEY, logger: createLogger({ destination, format: 'json' }) }, (s) => {
    s.registerCompletion('story', (request, out) => {
      seen.push(request)
      hints.push(out.workerHint)
      for (const piece of ['Once', ' upon', ' a time', ` (${String(request.prompt)})`]) out.push(OutputChunk.textDelta(piece))
      out.push(OutputChunk.usage(3, 4))
      out.push(OutputChunk.finish('stop'))
      out.end()
    })
    s.registerCompletion(
      'one-slot',
      (request, out) => {
        const aborted = new Promise<void>((resolve) => out.signal.addEventListener('abort', () => resolve(), { once: true }))
        held.push({
          request,
          aborted,
          finish: () => {
            out.push(OutputChunk.textDelta(String(request.prompt)))
            out.end()
          },
        })
        out.push(OutputChunk.textDelta('started '))
        onHeld?.()
      },
      { limits: { maxConcurrency: 1, maxQueue: 8 } },
    )
  })
  grpcServer = new GrpcServer(server.context)
  const port = await grpcServer.start(0)
  client = clients(`127.0.0.1:${port}`)
})

afterAll(async () => {
  client.close()
  await grpcServer.stop()
  await server.stop()
})

const predict = (request: object, metadata = withKey(KEY)) => client.ai.StreamPredict!(request, metadata) as import('@grpc/grpc-js').ClientReadableStream<PredictResponse>

describe('AIService.StreamPredict', () => {
  test("a stream's chunks concatenate to the REST text of the same request; trace_id and index as the seed says", async () => {
    const request = { model_id: 'story', prompt: 'tell me', generation: { temperature: 0, max_new_tokens: 16 }, metadata: { trace_id: 'trace-001' } }
    const { responses, error } = await collect(predict(request))
    expect(error).toBeUndefined()
    expect(responses.length).toBe(5)
    expect(responses.every((response) => response.trace_id === 'trace-001')).toBe(true)
    expect(responses.at(-1)).toMatchObject({ chunk: '', end_of_stream: true, index: 4, finish_reason: 'stop' })

    const rest = await fetch(`${server.url}/api/v1/inference`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ modelId: 'story', prompt: 'tell me', generation: { temperature: 0, maxNewTokens: 16 } }),
    })
    expect(rest.status).toBe(200)
    const body = (await rest.json()) as { choices: Array<{ text: string }> }
    expect(streamText(responses)).toBe(body.choices[0]!.text)
    expect(streamText(responses)).toBe('Once upon a time (tell me)')
  })

  test("without metadata.trace_id, trace_id is the call's x-request-id metadata, else a new id", async () => {
    const metadata = withKey(KEY)
    metadata.set('x-request-id', 'from-metadata-7')
    const sent = await collect(predict({ model_id: 'story', prompt: 'x' }, metadata))
    expect(sent.responses.map((response) => response.trace_id)).toEqual(Array(5).fill('from-metadata-7'))
    const { responses } = await collect(predict({ model_id: 'story', prompt: 'x' }))
    expect(responses[0]!.trace_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(new Set(responses.map((response) => response.trace_id)).size).toBe(1)
  })

  test('each call gets an access line (its trace id, route, model, status, tokens, tenant, player) and the request metrics', async () => {
    const metadata = { trace_id: 'trace-log-1', tenant: 'acme', player_id: 'player-456', locale: 'zh-CN' }
    await collect(predict({ model_id: 'story', prompt: 'x', metadata }))
    expect(await logged('trace-log-1')).toMatchObject({
      route: '/cy.engine.v1.AIService/StreamPredict',
      method: 'POST',
      model: 'story',
      status: 200,
      prompt_tokens: 3,
      completion_tokens: 4,
      player_id: 'player-456',
      locale: 'zh-CN',
    })
    await collect(predict({ model_id: 'nowhere', prompt: 'x', metadata: { trace_id: 'trace-log-2' } }))
    expect(await logged('trace-log-2')).toMatchObject({ status: 404, error: 'model_not_found' })
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { 'x-api-key': KEY } })).text()
    expect(metrics).toMatch(/cy_http_requests_total\{[^}]*route="\/cy\.engine\.v1\.AIService\/StreamPredict"[^}]*status="200"/)
  })

  test('unset optional fields take the defaults, while a set temperature 0 is honoured (greedy)', async () => {
    seen.length = 0
    await collect(predict({ model_id: 'story', prompt: 'a', generation: { temperature: 0 } }))
    await collect(predict({ model_id: 'story', prompt: 'b' }))
    await collect(predict({ model_id: 'story', prompt: 'c', generation: { top_p: 0.5, max_new_tokens: 7, repetition_penalty: 1.1 } }))
    expect(seen.map(({ temperature, top_p, max_tokens }) => ({ temperature, top_p, max_tokens }))).toEqual([
      { temperature: 0, top_p: 0.95, max_tokens: 256 },
      { temperature: 0.7, top_p: 0.95, max_tokens: 256 },
      { temperature: 0.7, top_p: 0.5, max_tokens: 7 },
    ])
    expect(seen[2]!.repeat_penalty).toBe(1.1)
    expect(seen[1]!.repeat_penalty).toBeUndefined()
  })

  test('worker_hint reaches the handler as its sink\'s workerHint (empty: none)', async () => {
    hints.length = 0
    await collect(predict({ model_id: 'story', prompt: 'a', worker_hint: 'gpu-2' }))
    await collect(predict({ model_id: 'story', prompt: 'b' }))
    expect(hints).toEqual(['gpu-2', undefined])
  })

  test('a bad key, or none, gets UNAUTHENTICATED; Bearer in authorization is accepted', async () => {
    for (const metadata of [withKey('wrong'), withKey()]) {
      const { responses, error } = await collect(predict({ model_id: 'story', prompt: 'x' }, metadata))
      expect(responses).toEqual([])
      expect(error?.code).toBe(status.UNAUTHENTICATED)
      expect(error?.details).toContain('API key')
    }
    const { error } = await collect(predict({ model_id: 'story', prompt: 'x' }, withKey(`Bearer ${KEY}`, 'authorization')))
    expect(error).toBeUndefined()
  })

  test('an unknown model gets NOT_FOUND with the engine code in the trailers, and no stack', async () => {
    const { error } = await collect(predict({ model_id: 'no-such-model', prompt: 'x' }))
    expect(error?.code).toBe(status.NOT_FOUND)
    expect(error?.details).toContain('no-such-model')
    expect(error?.details).not.toContain(' at ')
    expect(error?.metadata.get('error-code')).toEqual(['MODEL_NOT_FOUND'])
  })

  test('a bad field gets INVALID_ARGUMENT naming it', async () => {
    const { error } = await collect(predict({ model_id: 'story', prompt: 'x', generation: { temperature: 3 } }))
    expect(error?.code).toBe(status.INVALID_ARGUMENT)
    expect(error?.metadata.get('error-field')).toEqual(['generation.temperature'])
    const missing = await collect(predict({ prompt: 'x' }))
    expect(missing.error?.code).toBe(status.INVALID_ARGUMENT)
    expect(missing.error?.metadata.get('error-field')).toEqual(['modelId'])
  })

  test('a cancelled call frees its slot: the next call on the one-slot model runs', async () => {
    held.length = 0
    const first = predict({ model_id: 'one-slot', prompt: 'first' })
    const firstChunk = new Promise<PredictResponse>((resolve) => first.once('data', resolve))
    const firstDone = collect(first)
    expect((await firstChunk).chunk).toBe('started ')
    first.cancel()
    expect((await firstDone).error?.code).toBe(status.CANCELLED)
    // The handler's own signal fired: the generation stopped, not only the stream.
    await held[0]!.aborted

    const second = collect(predict({ model_id: 'one-slot', prompt: 'second' }))
    await heldCount(2)
    held[1]!.finish()
    const { responses, error } = await second
    expect(error).toBeUndefined()
    expect(streamText(responses)).toBe('started second')
  })

  test('priority orders the queue under a full limiter: higher first, FIFO within a priority', async () => {
    held.length = 0
    const holder = collect(predict({ model_id: 'one-slot', prompt: 'holder' }))
    await heldCount(1)
    const queued = [
      { prompt: 'low', priority: -1 },
      { prompt: 'default-1', priority: 0 },
      { prompt: 'high', priority: 5 },
      { prompt: 'default-2' },
      { prompt: 'mid', priority: 2 },
    ]
    const calls: Array<Promise<unknown>> = []
    for (const { prompt, priority } of queued) {
      calls.push(collect(predict({ model_id: 'one-slot', prompt, ...(priority !== undefined ? { priority } : {}) })))
      // Each waits in the queue before the next is sent, so arrival order is known.
      while (server.dispatcher.waiting < calls.length) await new Promise((resolve) => setImmediate(resolve))
    }
    held[0]!.finish()
    await holder
    for (let started = 2; started <= 6; started++) {
      await heldCount(started)
      held[started - 1]!.finish()
    }
    await Promise.all(calls)
    expect(held.map((entry) => String(entry.request.prompt))).toEqual(['holder', 'high', 'mid', 'default-1', 'default-2', 'low'])
  })
})

describe('TrainingService', () => {
  test('declared, behind the key, and UNIMPLEMENTED with a clear message', async () => {
    const error = (await unary(client.training, 'GetTrainingStatus', { job_id: 'job-1' }, withKey(KEY)).catch((e: unknown) => e)) as ServiceError
    expect(error.code).toBe(status.UNIMPLEMENTED)
    expect(error.details).toContain('Training is not available')
    const denied = (await unary(client.training, 'ListTrainingJobs', {}, withKey('wrong')).catch((e: unknown) => e)) as ServiceError
    expect(denied.code).toBe(status.UNAUTHENTICATED)
  })
})

describe('health and reflection (open, as /health and /openapi.json are)', () => {
  test('grpc.health.v1 answers SERVING for the server and for AIService', async () => {
    expect(await unary(client.health, 'Check', { service: '' })).toEqual({ status: 'SERVING' })
    expect(await unary(client.health, 'Check', { service: 'cy.engine.v1.AIService' })).toEqual({ status: 'SERVING' })
  })

  test('reflection lists the services (what grpcurl list asks) and describes StreamPredict', async () => {
    const call = client.reflection.ServerReflectionInfo!() as import('@grpc/grpc-js').ClientDuplexStream<object, Record<string, any>>
    const answers: Array<Record<string, any>> = []
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (answer: Record<string, any>) => {
        answers.push(answer)
        if (answers.length === 2) call.end()
      })
      call.on('end', resolve)
      call.on('error', reject)
    })
    call.write({ list_services: '' })
    call.write({ file_containing_symbol: 'cy.engine.v1.AIService' })
    await done
    const names = answers[0]!.list_services_response.service.map((service: { name: string }) => service.name)
    expect(names).toEqual(expect.arrayContaining(['cy.engine.v1.AIService', 'cy.engine.v1.TrainingService', 'grpc.health.v1.Health']))
    const files: Buffer[] = answers[1]!.file_descriptor_response.file_descriptor_proto
    expect(files.some((file) => file.toString('latin1').includes('StreamPredict'))).toBe(true)
  })
})
