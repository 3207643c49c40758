import { OutputChunk, type EngineStatus } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { registerScriptedModels } from '../support/scripted-models.ts'
import { startTestServer } from '../support/test-server.ts'

/** One sample of the Prometheus text format: `name{label="value",...} number`. */
interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** A small parser of the text exposition format (what prom-client writes): every sample line, comments skipped. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) throw new Error(`Not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    samples.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return samples
}

const KEY = 'metrics-key'
let server: Server
const engineListeners = new Set<(status: EngineStatus) => void>()
let releaseSlow: () => void = () => {}
let slowStarted: Promise<void>
let markSlowStarted: () => void = () => {}

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toContain('text/plain')
  return parsePrometheus(await response.text())
}

/** The value of one series (0 when absent: a counter not yet moved). */
function value(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)
  return found?.value ?? 0
}

const chat = (body: Record<string, unknown>) =>
  fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: JSON.stringify(body) })

beforeAll(async () => {
  server = await startTestServer({ apiKey: KEY }, (s) => {
    registerScriptedModels(s)
    // Holds its one slot until the test releases it: one request runs, the next waits.
    s.registerModel(
      'slow',
      {
        chat: async (_req, out) => {
          markSlowStarted()
          await new Promise<void>((resolve) => (releaseSlow = resolve))
          out.push(OutputChunk.textDelta('done'))
          out.push(OutputChunk.usage(1, 1))
          out.end()
        },
      },
      { limits: { maxConcurrency: 1, maxQueue: 4 } },
    )
  })
  // A test double at the engine-status boundary (`LoadedModel.onStatus`): the app's model manager counts each
  // restart a process host reports with `recordEngineRestart`, as here.
  engineListeners.add((status) => {
    if (status.state === 'restarting') server.recordEngineRestart('scripted')
  })
})

afterAll(async () => {
  await server.stop()
})

describe('GET /metrics', () => {
  test('counters move by exactly what a scripted run implies', async () => {
    const before = await scrape()
    const messages = [{ role: 'user', content: 'hi' }]
    // Three chats of the scripted model (3 prompt and 4 completion tokens each), one streamed.
    for (const stream of [false, false, true]) {
      const response = await chat({ model: 'scripted', messages, stream })
      expect(response.status).toBe(200)
      await response.text()
    }
    // One client mistake.
    const bad = await chat({ model: 'scripted', messages, temperature: 5 })
    expect(bad.status).toBe(400)
    await bad.text()
    const after = await scrape()
    const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels)
    const route = '/v1/chat/completions'
    expect(delta('cy_http_requests_total', { route, model: 'scripted', status: '200' })).toBe(3)
    // Refused by the schema before any model resolved: no model label.
    expect(delta('cy_http_requests_total', { route, model: '', status: '400' })).toBe(1)
    expect(delta('cy_prompt_tokens_total', { model: 'scripted' })).toBe(9)
    expect(delta('cy_completion_tokens_total', { model: 'scripted' })).toBe(12)
    expect(delta('cy_http_request_duration_seconds_count', { route, model: 'scripted' })).toBe(3)
    expect(delta('cy_time_to_first_token_seconds_count', { model: 'scripted' })).toBe(3)
    expect(delta('cy_queue_wait_seconds_count', { model: 'scripted' })).toBe(3)
    expect(delta('cy_completion_tokens_per_second_count', { model: 'scripted' })).toBe(3)
    // The scrape before this one is counted too, under its route.
    expect(delta('cy_http_requests_total', { route: '/metrics', model: '', status: '200' })).toBe(1)
  })

  test('an unknown model is counted without its name (clients do not choose label values)', async () => {
    const response = await chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })
    expect(response.status).toBe(404)
    const samples = await scrape()
    expect(samples.some((s) => s.labels.model === 'no-such-model')).toBe(false)
    expect(value(samples, 'cy_http_requests_total', { route: '/v1/chat/completions', model: '', status: '404' })).toBeGreaterThanOrEqual(1)
  })

  test('queued and active requests per model while a model is busy', async () => {
    slowStarted = new Promise<void>((resolve) => (markSlowStarted = resolve))
    const body = { model: 'slow', messages: [{ role: 'user', content: 'hi' }] }
    const first = chat(body)
    await slowStarted
    const second = chat(body)
    // The second request is in once the dispatcher counts it waiting for the model's one slot.
    while (server.dispatcher.waiting === 0) await new Promise((resolve) => setImmediate(resolve))
    const busy = await scrape()
    expect(value(busy, 'cy_requests_active', { model: 'slow' })).toBe(1)
    expect(value(busy, 'cy_requests_queued', { model: 'slow' })).toBe(1)
    slowStarted = new Promise<void>((resolve) => (markSlowStarted = resolve))
    releaseSlow()
    await slowStarted
    releaseSlow()
    expect((await first).status).toBe(200)
    expect((await second).status).toBe(200)
    const idle = await scrape()
    expect(value(idle, 'cy_requests_active', { model: 'slow' })).toBe(0)
    expect(value(idle, 'cy_requests_queued', { model: 'slow' })).toBe(0)
    // The second one waited for the slot: a queue wait above zero.
    expect(value(idle, 'cy_queue_wait_seconds_sum', { model: 'slow' })).toBeGreaterThan(0)
  })

  test('model states, engine restarts and process memory', async () => {
    server.registry.setStatus('slow', { state: 'loading' })
    let samples = await scrape()
    expect(value(samples, 'cy_model_state', { model: 'slow', state: 'loading' })).toBe(1)
    expect(value(samples, 'cy_model_state', { model: 'slow', state: 'ready' })).toBe(0)
    expect(value(samples, 'cy_model_state', { model: 'scripted', state: 'ready' })).toBe(1)
    server.registry.setStatus('slow', { state: 'ready' })
    for (const listener of engineListeners) {
      listener({ state: 'restarting', reason: 'SIGABRT', attempt: 1 })
      listener({ state: 'ready' })
      listener({ state: 'restarting', reason: 'SIGABRT', attempt: 2 })
    }
    samples = await scrape()
    expect(value(samples, 'cy_engine_restarts_total', { model: 'scripted' })).toBe(2)
    expect(value(samples, 'cy_model_state', { model: 'slow', state: 'ready' })).toBe(1)
    expect(value(samples, 'process_resident_memory_bytes', {})).toBeGreaterThan(0)
  })

  test('needs the API key unless metricsPublic', async () => {
    const closed = await fetch(`${server.url}/metrics`)
    expect(closed.status).toBe(401)
    const open = await startTestServer({ apiKey: KEY, metricsPublic: true })
    try {
      const response = await fetch(`${open.url}/metrics`)
      expect(response.status).toBe(200)
      expect(parsePrometheus(await response.text()).some((s) => s.name === 'process_resident_memory_bytes')).toBe(true)
      // Only /metrics opens: the rest still needs the key.
      expect((await fetch(`${open.url}/v1/models`)).status).toBe(401)
    } finally {
      await open.stop()
    }
  })
})
