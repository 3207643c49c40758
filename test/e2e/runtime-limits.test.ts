import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import { sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'
import { expectApiError, gate, postJson, userMessages, waitFor } from './bad-input-helpers.ts'

describe('per-model limits and Retry-After over HTTP', () => {
  let server: Server
  let hold = gate()
  let started = 0

  beforeAll(async () => {
    server = await startTestServer({ queueTimeoutMs: 60_000 }, (s) => {
      const held = async (_req: unknown, out: { push(chunk: OutputChunk): boolean; end(): void }) => {
        started++
        await hold.promise
        out.push(OutputChunk.textDelta('done'))
        out.end()
      }
      // An engine with two slots, as an adapter's `parallel: 2` declares it, and room for two to wait.
      s.registerChat('parallel-2', held, { limits: { maxConcurrency: 2, maxQueue: 2 } })
      s.registerChat('no-queue', held, { limits: { maxConcurrency: 1, maxQueue: 0 } })
    })
  })
  afterAll(async () => {
    hold.open()
    await server.stop()
  })

  const chat = (model: string) => postJson(`${server.url}/v1/chat/completions`, { model, messages: userMessages })

  test('a model with parallel 2 and queue 2: the fifth concurrent request is 429 with Retry-After; the four then finish', async () => {
    hold = gate()
    const before = started
    const four = [chat('parallel-2'), chat('parallel-2'), chat('parallel-2'), chat('parallel-2')]
    await waitFor(() => started - before === 2 && server.registry.limiter('parallel-2')!.queued === 2, 'two running and two waiting')
    const fifth = await chat('parallel-2')
    expect(fifth.headers.get('retry-after')).toBe('1')
    await expectApiError(fifth, { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' })
    hold.open()
    for (const response of await Promise.all(four)) expect(response.status).toBe(200)
    expect(started - before).toBe(4)
  })

  test('maxQueue 0: a request to a busy model is refused at once with 429 and Retry-After', async () => {
    hold = gate()
    const running = chat('no-queue')
    await waitFor(() => server.registry.limiter('no-queue')!.active === 1, 'the first request to run')
    const refused = await chat('no-queue')
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    hold.open()
    expect((await running).status).toBe(200)
  })
})

describe('timeouts over HTTP', () => {
  let server: Server
  let hold = gate()

  beforeAll(async () => {
    server = await startTestServer({ maxConcurrency: 1, queueTimeoutMs: 50, firstTokenTimeoutMs: 100, idleTimeoutMs: 100 }, (s) => {
      s.registerChat('held', async (_req, out) => {
        await hold.promise
        out.end()
      })
      // A word every 20 ms for 400 ms: far past every timeout, never silent for long.
      s.registerChat('steady', async (_req, out) => {
        for (let i = 0; i < 20 && !out.signal.aborted; i++) {
          out.push(OutputChunk.textDelta(`w${i} `))
          await Bun.sleep(20)
        }
        out.end()
      })
      // Two words, then silence.
      s.registerChat('stalls', (_req, out) => {
        out.push(OutputChunk.textDelta('one '))
        out.push(OutputChunk.textDelta('two '))
      })
    })
  })
  afterAll(async () => {
    hold.open()
    await server.stop()
  })

  const chat = (model: string, extra: Record<string, unknown> = {}) => postJson(`${server.url}/v1/chat/completions`, { model, messages: userMessages, ...extra })

  test('a stream that keeps producing outlives every timeout and completes', async () => {
    const response = await chat('steady', { stream: true })
    expect(response.status).toBe(200)
    const frames = sseFrames(await response.text()) as Array<{ choices?: Array<{ delta: { content?: string }; finish_reason: string | null }>; error?: unknown }>
    expect(frames.some((frame) => frame.error)).toBe(false)
    expect(frames.map((frame) => frame.choices?.[0]?.delta.content ?? '').join('')).toBe(Array.from({ length: 20 }, (_, i) => `w${i} `).join(''))
    expect(frames.at(-1)?.choices?.[0]?.finish_reason).toBe('stop')
  })

  test('a stream that stalls mid-way ends with an error event after the idle timeout', async () => {
    const response = await chat('stalls', { stream: true })
    expect(response.status).toBe(200)
    const frames = sseFrames(await response.text()) as Array<{ choices?: Array<{ delta: { content?: string } }>; error?: { code: string; type: string } }>
    expect(frames.map((frame) => frame.choices?.[0]?.delta.content ?? '').join('')).toBe('one two ')
    expect(frames.at(-1)?.error).toMatchObject({ code: 'timeout', type: 'timeout_error' })
  })

  test('a request that waits past the queue timeout gets 503 with Retry-After', async () => {
    hold = gate()
    const running = chat('held')
    await waitFor(() => server.dispatcher.limiter.active === 1, 'the first request to run')
    const queued = await chat('held')
    expect(queued.headers.get('retry-after')).toBe('1')
    await expectApiError(queued, { status: 503, type: 'server_error', code: 'queue_timeout' })
    hold.open()
    expect((await running).status).toBe(200)
  })
})
