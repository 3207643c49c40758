// Engine work on a WorkerHost must leave the server's event loop free: /health answers mid-generation.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { WorkerHost, type ChatHandler, type OutputSink } from '@cy/core'
import type { Server } from '@cy/http'
import type { BlockArgs } from '../fixtures/blocking-worker.ts'
import { startTestServer } from '../support/test-server.ts'

// Safety net only: 1500 steps of 10 ms. A passing run stops the loop long before, via `release` or a cancel.
const MAX_STEPS = 1500
const STEP_MS = 10

interface Run {
  /** Resolves once the Worker has sent its first chunk: the blocking loop is running. */
  firstChunk: Promise<void>
  /** What the Worker's method returned: the steps it ran. */
  steps: Promise<number>
  /** Store 1 here to let the loop finish normally. */
  release: Int32Array
}

let host: WorkerHost
let server: Server
const runs: Run[] = []

/** Passes chunks through to the request's channel, noting the first. */
function watching(out: OutputSink, onFirstChunk: () => void): OutputSink {
  return {
    get signal() {
      return out.signal
    },
    get closed() {
      return out.closed
    },
    push(chunk) {
      onFirstChunk()
      return out.push(chunk)
    },
    ready: () => out.ready(),
    end: () => out.end(),
    fail: (error) => out.fail(error),
  }
}

const slowChat: ChatHandler = (_req, out) => {
  const first = Promise.withResolvers<void>()
  const release = new Int32Array(new SharedArrayBuffer(4))
  const call = host.call<number>('block', { maxSteps: MAX_STEPS, stepMs: STEP_MS, release } satisfies BlockArgs, watching(out, first.resolve))
  runs.push({ firstChunk: first.promise, steps: call, release })
  return call.then(
    () => out.end(),
    (error) => out.fail(error),
  )
}

beforeAll(async () => {
  host = new WorkerHost(new URL('../fixtures/blocking-worker.ts', import.meta.url), { name: 'test:event-loop' })
  server = await startTestServer({}, (s) => s.registerChat('slow', slowChat))
})

afterAll(async () => {
  await server?.stop()
  host?.terminate()
})

const chatBody = JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'take your time' }] })

describe('the event loop is not blocked by engine work', () => {
  test('GET /health answers 200 while a chat completion is in flight, and before it', async () => {
    const order: string[] = []
    const chat = fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chatBody,
    }).then(async (response) => {
      const body = (await response.json()) as { choices: Array<{ message: { content: string } }> }
      order.push('chat')
      return { status: response.status, body }
    })

    await until(() => runs.length === 1, 'the chat handler to start')
    const run = runs[0]!
    // The Worker is now inside its blocking loop, which only `release` (set below) ends early.
    await run.firstChunk

    const health = await fetch(`${server.url}/health`)
    const healthBody = (await health.json()) as { status: string; requests: { active: number } }
    order.push('health')
    expect(health.status).toBe(200)
    expect(healthBody.status).toBe('ok')
    // The chat still holds its slot: /health really was answered mid-generation.
    expect(healthBody.requests.active).toBe(1)

    Atomics.store(run.release, 0, 1)
    const result = await chat
    const steps = await run.steps
    expect(order).toEqual(['health', 'chat'])
    expect(result.status).toBe(200)
    // Had /health waited for the engine, the loop would have run to its end before `release` was set.
    expect(steps).toBeLessThan(MAX_STEPS)
    // Every step's chunk made it into the answer.
    expect(result.body.choices[0]!.message.content).toBe('.'.repeat(steps))
  }, 60_000)

  test('a client that disconnects stops the blocking loop through the shared flag', async () => {
    runs.length = 0
    const client = new AbortController()
    const chat = fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chatBody,
      signal: client.signal,
    }).catch((error: unknown) => error)

    await until(() => runs.length === 1, 'the chat handler to start')
    const run = runs[0]!
    await run.firstChunk
    client.abort()
    expect(await chat).toMatchObject({ name: 'AbortError' })
    // Nothing sets `release` here: only the cancel can have stopped it before MAX_STEPS.
    expect(await run.steps).toBeLessThan(MAX_STEPS)
    await until(() => server.dispatcher.limiter.active === 0, 'the slot to be released')
    expect(server.dispatcher.limiter.active).toBe(0)
  }, 60_000)
})

/** Polls a condition; only a safety net against hanging, never the thing under test. */
async function until(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await Bun.sleep(5)
  }
}
