import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BadRequestError, OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import OpenAI from 'openai'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'
import { expectApiError, expectErrorBody, expectNoStackTrace, gate, health, postJson, userMessages, waitFor } from './bad-input-helpers.ts'

describe('bad input: full queue', () => {
  let server: Server
  let url: string
  let hold = gate()
  let started = 0

  beforeAll(async () => {
    server = await startTestServer({}, (s) => {
      s.setMaxConcurrency(1).setMaxQueue(1)
      s.registerChat('slow', async (_req, out) => {
        started++
        await hold.promise
        out.push(OutputChunk.textDelta('done'))
        out.end()
      })
    })
    url = server.url
  })

  afterAll(async () => {
    hold.open()
    await server.stop()
  })

  const chat = () => postJson(`${url}/v1/chat/completions`, { model: 'slow', messages: userMessages })

  /** One request running and one waiting: the queue is full. */
  const fillQueue = async () => {
    const running = chat()
    await waitFor(async () => (await health(url)).requests.active === 1, 'the first request to run')
    const waiting = chat()
    await waitFor(async () => (await health(url)).requests.queued === 1, 'the second request to queue')
    return [running, waiting]
  }

  test('7a. a third request past maxConcurrency 1 + maxQueue 1 → 429 rate_limit_error; the first two then succeed', async () => {
    hold = gate()
    const before = started
    const [first, second] = await fillQueue()
    await expectApiError(await chat(), { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' })
    // The rejected request never reached the handler; the queued one has not started yet.
    expect(started - before).toBe(1)
    hold.open()
    for (const response of await Promise.all([first!, second!])) {
      expect(response.status).toBe(200)
      expect(((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe('done')
    }
    expect(started - before).toBe(2)
    await waitFor(async () => (await health(url)).requests.active === 0, 'the slots to be released')
  })

  test('7b. a 429 through the SDK → OpenAI.RateLimitError', async () => {
    hold = gate()
    const pending = await fillQueue()
    const { client, last } = recordingClient(url)
    const error = await client.chat.completions
      .create({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] })
      .then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).status).toBe(429)
    const exchange = await last()
    expectNoStackTrace(exchange.text)
    expectErrorBody(JSON.parse(exchange.text), { type: 'rate_limit_error', code: 'rate_limit_exceeded' })
    hold.open()
    for (const response of await Promise.all(pending)) expect(response.status).toBe(200)
  })
})

describe('bad input: timeouts, disconnects and failing handlers', () => {
  let server: Server
  let url: string
  let timedOutSignal: AbortSignal | undefined
  /** Each 'endless' stream: its signal, how many deltas it pushed, and whether its loop has ended. */
  const streams: Array<{ signal: AbortSignal; pushes: number; stopped: boolean }> = []

  beforeAll(async () => {
    server = await startTestServer({}, (s) => {
      s.setTimeout(200)
      // Never pushes, never ends.
      s.registerChat('hang', (_req, out) => {
        timedOutSignal = out.signal
      })
      // Pushes until the client goes away.
      s.registerChat('endless', async (_req, out) => {
        const stream = { signal: out.signal, pushes: 0, stopped: false }
        streams.push(stream)
        while (!out.signal.aborted) {
          out.push(OutputChunk.textDelta('tick '))
          stream.pushes++
          await Bun.sleep(3)
        }
        stream.stopped = true
      })
      s.registerChat('explodes', () => {
        throw new Error('engine exploded')
      })
      s.registerChat('explodes-later', async () => {
        await Bun.sleep(1)
        throw new Error('engine exploded')
      })
      s.registerChat('rejects-prompt', () => {
        throw new BadRequestError('bad prompt', { param: 'messages' })
      })
      s.registerChat('fails-mid-stream', async (_req, out) => {
        out.push(OutputChunk.textDelta('partial'))
        await Bun.sleep(1)
        throw new Error('engine exploded mid-stream')
      })
    })
    url = server.url
  })

  afterAll(async () => {
    await server.stop()
  })

  const chat = (model: string, extra: Record<string, unknown> = {}, signal?: AbortSignal) =>
    postJson(`${url}/v1/chat/completions`, { model, messages: userMessages, ...extra }, {}, signal)

  test("8. a handler past setTimeout(200) → 504 timeout_error, and the handler's signal fired with a 504 reason", async () => {
    await expectApiError(await chat('hang'), { status: 504, type: 'timeout_error', code: 'timeout' })
    expect(timedOutSignal?.aborted).toBe(true)
    expect((timedOutSignal?.reason as { status?: number } | undefined)?.status).toBe(504)
  })

  /** Starts an endless stream, reads two SSE frames, then leaves the way `leave` says; checks the server side. */
  const leaveMidStream = async (leave: (abort: AbortController, reader: ReadableStreamDefaultReader<Uint8Array>) => Promise<void>) => {
    server.setTimeout(0)
    try {
      const count = streams.length
      const abort = new AbortController()
      const response = await chat('endless', { stream: true }, abort.signal)
      expect(response.status).toBe(200)
      const reader = response.body!.getReader()
      const decoder = new TextDecoder()
      let text = ''
      while (sseFrames(text).length < 2) {
        const { value, done } = await reader.read()
        expect(done).toBe(false)
        text += decoder.decode(value, { stream: true })
      }
      expect(JSON.stringify(sseFrames(text))).toContain('tick')
      expect(streams.length).toBe(count + 1)
      const stream = streams.at(-1)!
      await leave(abort, reader)

      await waitFor(() => stream.stopped, "the handler's loop to end")
      expect(stream.signal.aborted).toBe(true)
      // The client went away (499), not a timeout (504).
      expect((stream.signal.reason as { status?: number }).status).toBe(499)
      // The loop has returned, so nothing is pushed any more; it pushed at least the frames read.
      expect(stream.pushes).toBeGreaterThanOrEqual(2)
      await waitFor(async () => (await health(url)).requests.active === 0, 'the slot to be released')
      expect((await health(url)).requests).toMatchObject({ active: 0, queued: 0 })
    } finally {
      server.setTimeout(200)
    }
  }

  test('9a. a client that aborts mid-stream (AbortController): the handler is signalled and stops; /health shows 0 active', async () => {
    await leaveMidStream(async (abort) => abort.abort())
  })

  test('9b. a client that cancels the body reader mid-stream: the handler is signalled and stops; /health shows 0 active', async () => {
    await leaveMidStream((_abort, reader) => reader.cancel())
  })

  test('9c. a client that leaves a non-streaming request: the handler is signalled and stops', async () => {
    server.setTimeout(0)
    try {
      const count = streams.length
      const abort = new AbortController()
      const pending = chat('endless', {}, abort.signal).catch((error: unknown) => error)
      await waitFor(() => streams.length === count + 1 && streams.at(-1)!.pushes >= 2, 'the handler to be working')
      const stream = streams.at(-1)!
      abort.abort()
      expect(await pending).toBeInstanceOf(Error)
      await waitFor(() => stream.stopped, "the handler's loop to end")
      expect((stream.signal.reason as { status?: number }).status).toBe(499)
      await waitFor(async () => (await health(url)).requests.active === 0, 'the slot to be released')
    } finally {
      server.setTimeout(200)
    }
  })

  test("10a. a handler that throws Error('engine exploded') before output → 502 upstream_error with that message", async () => {
    await expectApiError(await chat('explodes'), { status: 502, type: 'upstream_error', message: 'engine exploded' })
    await expectApiError(await chat('explodes-later'), { status: 502, type: 'upstream_error', message: 'engine exploded' })
  })

  test("10b. a handler that throws BadRequestError('bad prompt', { param: 'messages' }) → 400 with that param", async () => {
    await expectApiError(await chat('rejects-prompt'), { status: 400, type: 'invalid_request_error', param: 'messages', message: 'bad prompt' })
  })

  test('10c. a stream that fails after one delta ends with an OpenAI error frame', async () => {
    const response = await chat('fails-mid-stream', { stream: true })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    // text() resolves only once the stream has ended.
    const text = await response.text()
    expectNoStackTrace(text)
    const frames = sseFrames(text) as Array<Record<string, unknown>>
    expect(frames.length).toBeGreaterThanOrEqual(2)
    expect(JSON.stringify(frames[0])).toContain('partial')
    const last = frames.at(-1)
    expect(frames.filter((frame) => 'error' in frame)).toEqual([last!])
    expectErrorBody(last, { type: 'upstream_error', message: 'engine exploded mid-stream' })
    expect(text).not.toContain('[DONE]')
  })

  test("10d. the same failure through the SDK's streaming iterator is thrown", async () => {
    const { client } = recordingClient(url)
    const stream = await client.chat.completions.create({ model: 'fails-mid-stream', messages: [{ role: 'user', content: 'hi' }], stream: true })
    const seen: string[] = []
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '')
    })().then(() => undefined, (e: unknown) => e)
    expect(seen.join('')).toContain('partial')
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect((error as Error).message).toContain('engine exploded mid-stream')
  })
})
