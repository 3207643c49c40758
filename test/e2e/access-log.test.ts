import { OutputChunk } from '@cy/core'
import { createLogger, type Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { registerScriptedModels } from '../support/scripted-models.ts'
import { startTestServer } from '../support/test-server.ts'

/** The access lines a server writes, as parsed JSON, with a way to await the next one for a request id. */
class LogLines {
  readonly lines: Record<string, unknown>[] = []
  readonly #waiters = new Map<string, (line: Record<string, unknown>) => void>()
  write(text: string): void {
    const line = JSON.parse(text) as Record<string, unknown>
    this.lines.push(line)
    this.#waiters.get(line.request_id as string)?.(line)
  }
  /** The line of request `id`, once it is written. */
  of(id: string): Promise<Record<string, unknown>> {
    const found = this.lines.find((line) => line.request_id === id)
    if (found) return Promise.resolve(found)
    return new Promise((resolve) => this.#waiters.set(id, resolve))
  }
}

const log = new LogLines()
let server: Server
let streamStarted: () => void = () => {}
let streamGone: () => void = () => {}

const post = (path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal })
const messages = [{ role: 'user', content: 'hi' }]

beforeAll(async () => {
  server = await startTestServer({ logger: createLogger({ destination: log, format: 'json' }) }, (s) => {
    registerScriptedModels(s)
    // Streams one delta, then runs until its client leaves.
    s.registerChat('endless', async (_req, out) => {
      out.push(OutputChunk.textDelta('tick'))
      streamStarted()
      await new Promise<void>((resolve) => out.signal.addEventListener('abort', () => resolve(), { once: true }))
      streamGone()
      out.end()
    })
    // Ten sampling steps in quick succession, as an image model reports them.
    s.registerImageGeneration('stepper', (_req, out) => {
      for (let step = 1; step <= 10; step++) out.push(OutputChunk.progress(step / 10, 'sampling', { step, steps: 10 }))
      out.push(OutputChunk.image(Uint8Array.of(0x89, 0x50, 0x4e, 0x47)))
      out.end()
    })
  })
})

afterAll(async () => {
  await server.stop()
})

describe('access log', () => {
  test('a JSON request: one line with its id, route, model, status, tokens, TTFT, duration and client', async () => {
    const response = await post('/v1/chat/completions', { model: 'scripted', messages }, { 'x-request-id': 'client-id-1' })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-request-id')).toBe('client-id-1')
    await response.text()
    const line = await log.of('client-id-1')
    expect(line).toMatchObject({
      level: 30,
      msg: 'request',
      method: 'POST',
      route: '/v1/chat/completions',
      model: 'scripted',
      status: 200,
      prompt_tokens: 3,
      completion_tokens: 4,
      queue_ms: 0,
      client: '127.0.0.1',
    })
    expect(line.ttft_ms).toBeGreaterThanOrEqual(0)
    expect(line.duration_ms).toBeGreaterThanOrEqual(line.ttft_ms as number)
    expect(log.lines.filter((l) => l.request_id === 'client-id-1')).toHaveLength(1)
  })

  test('a stream: its line once the stream ends, with its tokens', async () => {
    const response = await post('/v1/chat/completions', { model: 'scripted', messages, stream: true, stream_options: { include_usage: true } })
    expect(response.status).toBe(200)
    const id = response.headers.get('x-request-id')!
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(await response.text()).toContain('[DONE]')
    expect(await log.of(id)).toMatchObject({ route: '/v1/chat/completions', model: 'scripted', status: 200, prompt_tokens: 3, completion_tokens: 4 })
  })

  test('image progress reaches the log for a client waiting on plain JSON: throttled, with the last step', async () => {
    const response = await post('/v1/images/generations', { model: 'stepper', prompt: 'x' }, { 'x-request-id': 'image-progress' })
    expect(response.status).toBe(200)
    await log.of('image-progress')
    const progress = log.lines.filter((line) => line.request_id === 'image-progress' && line.msg === 'progress')
    // Within a second only the first and the last of the ten steps are logged.
    expect(progress.map((line) => [line.step, line.steps, line.stage])).toEqual([
      [1, 10, 'sampling'],
      [10, 10, 'sampling'],
    ])
    expect(progress[1]).toMatchObject({ model: 'stepper', percent: 100 })
  })

  test('a 4xx: its status, and the id on the error', async () => {
    const response = await post('/v1/chat/completions', { model: 'scripted', messages, temperature: 5 }, { 'x-request-id': 'bad-one' })
    expect(response.status).toBe(400)
    expect(response.headers.get('x-request-id')).toBe('bad-one')
    const line = await log.of('bad-one')
    expect(line).toMatchObject({ route: '/v1/chat/completions', status: 400 })
    expect(line.model).toBeUndefined()
  })

  test('a client that left mid-stream: 499', async () => {
    const started = new Promise<void>((resolve) => (streamStarted = resolve))
    const gone = new Promise<void>((resolve) => (streamGone = resolve))
    const controller = new AbortController()
    const response = await post('/v1/chat/completions', { model: 'endless', messages, stream: true }, { 'x-request-id': 'leaver' }, controller.signal)
    expect(response.status).toBe(200)
    await started
    const reader = response.body!.getReader()
    await reader.read()
    controller.abort()
    await gone
    expect(await log.of('leaver')).toMatchObject({ route: '/v1/chat/completions', model: 'endless', status: 499, error: 'request_cancelled' })
  })

  test('every response carries x-request-id: 404s, other routes, docs', async () => {
    for (const path of ['/no-such-route', '/v1/models', '/v1/models/nope', '/health', '/openapi.json', '/docs']) {
      const response = await fetch(`${server.url}${path}`)
      await response.arrayBuffer()
      const id = response.headers.get('x-request-id')
      expect(id, path).toMatch(/^[0-9a-f-]{36}$/)
      const line = await log.of(id!)
      expect(line.status, path).toBe(response.status)
    }
    const unmatched = await log.of(log.lines.find((l) => l.route === '/no-such-route')!.request_id as string)
    expect(unmatched.status).toBe(404)
    expect(log.lines.find((l) => l.route === '/v1/models/:model')?.status).toBe(404)
  })

  test("a client's id that is too long or not printable ASCII is replaced", async () => {
    for (const sent of ['x'.repeat(129), 'has space', 'tab\there', 'é']) {
      const response = await post('/v1/chat/completions', { model: 'scripted', messages }, { 'x-request-id': sent })
      await response.text()
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    }
    const kept = 'y'.repeat(128)
    const response = await post('/v1/chat/completions', { model: 'scripted', messages }, { 'x-request-id': kept })
    await response.text()
    expect(response.headers.get('x-request-id')).toBe(kept)
  })
})

describe('logger', () => {
  test('text lines for people: level, message and key=value fields', () => {
    const lines: string[] = []
    const logger = createLogger({ destination: { write: (line) => lines.push(line) }, format: 'text' })
    logger.info({ request_id: 'abc', route: '/v1/models', status: 200, client: 'a b' }, 'request')
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  request request_id=abc route=\/v1\/models status=200 client="a b"\n$/)
  })

  test('the level filters', () => {
    const lines: string[] = []
    const logger = createLogger({ destination: { write: (line) => lines.push(line) }, level: 'warn' })
    logger.info('not written')
    logger.warn('written')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!).msg).toBe('written')
  })
})
