import { describe, expect, test } from 'bun:test'
import {
  BadRequestError,
  CancelledError,
  Dispatcher,
  ModelNotFoundError,
  ModelRegistry,
  OutputChunk,
  ProviderError,
  RateLimitError,
  ServiceUnavailableError,
  TimeoutError,
  type ChatHandler,
  type ChatRequest,
  type OutputSink,
} from '@cy/core'

const chat = (model: string, content = 'hi'): ChatRequest => ({ model, messages: [{ role: 'user', content }] })

/** Waits for a signal to abort and gives its reason. */
const abortReason = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) => {
    if (signal.aborted) resolve(signal.reason)
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true })
  })

/** A handler that keeps every sink it is given open until the test closes it. */
function holdingHandler() {
  const sinks: OutputSink[] = []
  const started: Array<() => void> = []
  const handler: ChatHandler = (_req, out) => {
    sinks.push(out)
    started.shift()?.()
  }
  const nextStart = () => new Promise<void>((resolve) => started.push(resolve))
  return { handler, sinks, nextStart }
}

function setup(handler: ChatHandler, options: ConstructorParameters<typeof Dispatcher>[1] = {}) {
  const registry = new ModelRegistry()
  registry.register('m', { chat: handler })
  return new Dispatcher(registry, { timeoutMs: 0, ...options })
}

describe('routing', () => {
  test('routes to the handler with the request, and the channel carries its output', async () => {
    let seen: ChatRequest | undefined
    const dispatcher = setup((req, out) => {
      seen = req
      out.push(OutputChunk.textDelta('hello'))
      out.end()
    })
    const request = chat('m', 'question')
    const channel = await dispatcher.dispatch('chat', request)
    expect(seen).toBe(request)
    expect(await channel.take()).toEqual([OutputChunk.textDelta('hello')])
    expect(await channel.take()).toBeNull()
  })

  test('picks the handler by model and capability', async () => {
    const registry = new ModelRegistry()
    const calls: string[] = []
    registry.register('a', { chat: (_r, out) => (calls.push('a'), out.end()) })
    registry.register('b', { chat: (_r, out) => (calls.push('b'), out.end()) })
    const dispatcher = new Dispatcher(registry)
    await dispatcher.dispatch('chat', chat('b'))
    await dispatcher.dispatch('chat', chat('a'))
    expect(calls).toEqual(['b', 'a'])
  })

  test('an unknown model rejects with ModelNotFoundError and takes no slot', async () => {
    const dispatcher = setup((_r, out) => out.end(), { maxConcurrency: 1 })
    const error = await dispatcher.dispatch('chat', chat('x')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ModelNotFoundError)
    expect((error as Error).message).toBe("Model 'x' is not available. Available models: m")
    expect(dispatcher.limiter.active).toBe(0)
  })
})

describe('handler failures', () => {
  test('a sync throw fails the channel (a plain Error becomes ProviderError 502)', async () => {
    const dispatcher = setup(() => {
      throw new Error('sync boom')
    })
    const channel = await dispatcher.dispatch('chat', chat('m'))
    const error = await channel.take().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProviderError)
    expect(error).toMatchObject({ status: 502, message: 'sync boom' })
  })

  test('a rejected promise fails the channel, an ApiError passing through', async () => {
    const dispatcher = setup(async (_req, out) => {
      out.push(OutputChunk.textDelta('before'))
      await Bun.sleep(1)
      throw new BadRequestError('bad stop sequence', { param: 'stop' })
    })
    const channel = await dispatcher.dispatch('chat', chat('m'))
    expect(await channel.take()).toEqual([OutputChunk.textDelta('before')])
    const error = await channel.take().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BadRequestError)
    expect(error).toMatchObject({ status: 400, param: 'stop' })
  })

  test('a rejection after the handler ended changes nothing', async () => {
    const dispatcher = setup(async (_req, out) => {
      out.end()
      throw new Error('after the end')
    })
    const channel = await dispatcher.dispatch('chat', chat('m'))
    expect(await channel.take()).toBeNull()
  })
})

describe('timeouts: queue, first output, idle between chunks', () => {
  test('a silent handler fails with TimeoutError 504 after the first-output timeout, and its signal fires', async () => {
    const { handler, sinks } = holdingHandler()
    const dispatcher = setup(handler, { firstTokenTimeoutMs: 30, idleTimeoutMs: 10_000, queueTimeoutMs: 10_000 })
    const channel = await dispatcher.dispatch('chat', chat('m'))
    const error = await channel.take().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ status: 504, message: 'The model sent no output within 30 ms' })
    expect(sinks).toHaveLength(1)
    expect(sinks[0]!.signal.aborted).toBe(true)
    expect(await abortReason(sinks[0]!.signal)).toBe(error)
    expect(sinks[0]!.closed).toBe(true)
  })

  test('a stream that keeps producing runs longer than every timeout without failing', async () => {
    const dispatcher = setup(async (_req, out) => {
      for (let i = 0; i < 12; i++) {
        out.push(OutputChunk.textDelta(`${i} `))
        await Bun.sleep(10)
      }
      out.end()
    }, { queueTimeoutMs: 30, firstTokenTimeoutMs: 30, idleTimeoutMs: 30 })
    const startedAt = performance.now()
    const channel = await dispatcher.dispatch('chat', chat('m'))
    let text = ''
    for await (const chunk of channel) if (chunk.type === 'text-delta') text += chunk.text
    expect(text).toBe('0 1 2 3 4 5 6 7 8 9 10 11 ')
    // Longer than all three timeouts together: none of them counts the whole stream.
    expect(performance.now() - startedAt).toBeGreaterThan(90)
    expect(channel.finished).toBe(true)
  })

  test('a stream that stalls mid-way fails with 504 after the idle timeout, not the first-output one', async () => {
    const { handler, sinks } = holdingHandler()
    const dispatcher = setup((req, out) => {
      handler(req, out)
      out.push(OutputChunk.textDelta('partial'))
    }, { firstTokenTimeoutMs: 60_000, idleTimeoutMs: 40 })
    const startedAt = performance.now()
    const channel = await dispatcher.dispatch('chat', chat('m'))
    expect(await channel.take()).toEqual([OutputChunk.textDelta('partial')])
    const error = await channel.take().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ status: 504, message: 'The model sent no output for 40 ms' })
    expect(performance.now() - startedAt).toBeLessThan(5_000)
    expect(sinks[0]!.signal.aborted).toBe(true)
  })

  test('the first output after a pause restarts the idle clock from that chunk', async () => {
    const { handler, sinks } = holdingHandler()
    const dispatcher = setup(handler, { firstTokenTimeoutMs: 60_000, idleTimeoutMs: 60 })
    const channel = await dispatcher.dispatch('chat', chat('m'))
    await Bun.sleep(30)
    sinks[0]!.push(OutputChunk.textDelta('late first'))
    const pushedAt = performance.now()
    expect(await channel.take()).toEqual([OutputChunk.textDelta('late first')])
    await expect(channel.take()).rejects.toBeInstanceOf(TimeoutError)
    expect(performance.now() - pushedAt).toBeGreaterThanOrEqual(55)
  })

  test('a slow reader is not an idle handler: chunks waiting for the reader keep the request alive', async () => {
    const dispatcher = setup(async (_req, out) => {
      for (let i = 0; i < 6; i++) if (!out.push(OutputChunk.textDelta(String(i)))) await out.ready()
      out.end()
    }, { highWaterMark: 2, idleTimeoutMs: 20, firstTokenTimeoutMs: 20 })
    const channel = await dispatcher.dispatch('chat', chat('m'))
    // The handler is blocked on back-pressure for far longer than the idle timeout.
    await Bun.sleep(80)
    expect(channel.signal.aborted).toBe(false)
    const texts: string[] = []
    for await (const chunk of channel) if (chunk.type === 'text-delta') texts.push(chunk.text)
    expect(texts).toEqual(['0', '1', '2', '3', '4', '5'])
  })

  test('a request timing out in the queue fails with 503 and a retry hint, and never runs its handler', async () => {
    let runs = 0
    const dispatcher = setup((_r, out) => {
      runs++
      out.end()
    }, { maxConcurrency: 1, queueTimeoutMs: 30 })
    // Hold the only slot outside any request, so only the queued one can time out.
    const release = await dispatcher.limiter.acquire()
    const error = await dispatcher.dispatch('chat', chat('m')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ServiceUnavailableError)
    expect(error).toMatchObject({ status: 503, code: 'queue_timeout', message: 'The request waited 30 ms for a free slot' })
    expect((error as ServiceUnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1)
    expect(dispatcher.limiter.queued).toBe(0)
    release()
    expect(dispatcher.limiter.active).toBe(0)
    expect(runs).toBe(0)
  })

  test('the queue wait does not eat into the first-output time', async () => {
    const { handler, sinks, nextStart } = holdingHandler()
    const dispatcher = setup(handler, { maxConcurrency: 1, queueTimeoutMs: 1_000, firstTokenTimeoutMs: 60 })
    const release = await dispatcher.limiter.acquire()
    const started = nextStart()
    const queued = dispatcher.dispatch('chat', chat('m'))
    await Bun.sleep(40)
    release()
    await started
    const channel = await queued
    await Bun.sleep(40)
    // 80 ms since arrival, 40 since it started: within the first-output time.
    sinks[0]!.push(OutputChunk.textDelta('in time'))
    sinks[0]!.end()
    expect(await channel.take()).toEqual([OutputChunk.textDelta('in time')])
  })

  test('timeoutMs (and setTimeoutMs) set all three limits; the specific ones win; nonsense is refused', async () => {
    const { handler } = holdingHandler()
    const dispatcher = setup(handler, { timeoutMs: 5_000, idleTimeoutMs: 7 })
    expect(dispatcher.timeouts).toEqual({ queueTimeoutMs: 5_000, firstTokenTimeoutMs: 5_000, idleTimeoutMs: 7 })
    dispatcher.setTimeoutMs(20)
    expect(dispatcher.timeouts).toEqual({ queueTimeoutMs: 20, firstTokenTimeoutMs: 20, idleTimeoutMs: 20 })
    const channel = await dispatcher.dispatch('chat', chat('m'))
    await expect(channel.take()).rejects.toBeInstanceOf(TimeoutError)
    dispatcher.setTimeouts({ idleTimeoutMs: 0 })
    expect(dispatcher.timeouts.idleTimeoutMs).toBe(0)
    expect(() => dispatcher.setTimeoutMs(-1)).toThrow(RangeError)
    expect(() => dispatcher.setTimeoutMs(Number.NaN)).toThrow(RangeError)
    expect(() => dispatcher.setTimeouts({ queueTimeoutMs: -5 })).toThrow(RangeError)
    const defaults = new Dispatcher(new ModelRegistry())
    expect(defaults.timeouts).toEqual({ queueTimeoutMs: 300_000, firstTokenTimeoutMs: 600_000, idleTimeoutMs: 120_000 })
  })

  test('Infinity and timeouts past the 2^31-1 ms timer range do not fire at once', async () => {
    for (const timeoutMs of [Infinity, 3_000_000_000]) {
      const { handler, sinks } = holdingHandler()
      const dispatcher = setup(handler, { timeoutMs })
      const channel = await dispatcher.dispatch('chat', chat('m'))
      sinks[0]!.push(OutputChunk.textDelta('x'))
      expect(await channel.take()).toEqual([OutputChunk.textDelta('x')])
      // An overflowing timer is run after 1 ms; this sleep's timer comes after it.
      await Bun.sleep(20)
      expect(channel.signal.aborted).toBe(false)
      sinks[0]!.end()
      expect(await channel.take()).toBeNull()
    }
  })

  test('a request that ends in time is not failed later by its timer', async () => {
    const dispatcher = setup((_r, out) => {
      out.push(OutputChunk.textDelta('quick'))
      out.end()
    }, { timeoutMs: 20 })
    const channel = await dispatcher.dispatch('chat', chat('m'))
    await Bun.sleep(60) // past the deadline: the timer must have been cleared
    expect(channel.signal.aborted).toBe(false)
    expect(await channel.take()).toEqual([OutputChunk.textDelta('quick')])
    expect(await channel.take()).toBeNull()
  })
})

describe('per-model limits', () => {
  function limited(limits: { maxConcurrency: number; maxQueue?: number }, options: ConstructorParameters<typeof Dispatcher>[1] = {}) {
    const { handler, sinks } = holdingHandler()
    const registry = new ModelRegistry()
    registry.register('m', { chat: handler }, { limits })
    registry.register('free', { chat: (_r, out) => out.end() })
    return { dispatcher: new Dispatcher(registry, { timeoutMs: 0, ...options }), sinks, registry }
  }

  test('a model with parallel 2 and queue 2: two run, two wait, the fifth gets 429 with a retry hint; other models are not held up', async () => {
    const { dispatcher, sinks, registry } = limited({ maxConcurrency: 2, maxQueue: 2 })
    const running = [await dispatcher.dispatch('chat', chat('m')), await dispatcher.dispatch('chat', chat('m'))]
    const waiting = [dispatcher.dispatch('chat', chat('m')), dispatcher.dispatch('chat', chat('m'))]
    await Bun.sleep(0)
    expect(sinks).toHaveLength(2)
    expect([registry.limiter('m')!.active, registry.limiter('m')!.queued, dispatcher.waiting]).toEqual([2, 2, 2])
    const error = await dispatcher.dispatch('chat', chat('m')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitError)
    expect((error as RateLimitError).retryAfterSeconds).toBeGreaterThanOrEqual(1)
    // Another model runs at once: the busy one holds no server-wide slot for its queue.
    expect(await (await dispatcher.dispatch('chat', chat('free'))).take()).toBeNull()
    for (const sink of sinks.slice(0, 2)) sink.end()
    await Promise.all(waiting)
    expect(sinks).toHaveLength(4)
    for (const sink of sinks) sink.end()
    for (const channel of running) expect(await channel.take()).toBeNull()
    expect([registry.limiter('m')!.active, dispatcher.limiter.active, dispatcher.waiting]).toEqual([0, 0, 0])
  })

  test('maxQueue 0 refuses at once when the model is busy', async () => {
    const { dispatcher, sinks } = limited({ maxConcurrency: 1, maxQueue: 0 })
    await dispatcher.dispatch('chat', chat('m'))
    await expect(dispatcher.dispatch('chat', chat('m'))).rejects.toBeInstanceOf(RateLimitError)
    sinks[0]!.end()
    await dispatcher.dispatch('chat', chat('m'))
    expect(sinks).toHaveLength(2)
  })

  test('the queue defaults to four times the model’s concurrency, and never past the server’s maxQueue', async () => {
    expect(limited({ maxConcurrency: 2 }).registry.limiter('m')!.limits).toEqual({ maxConcurrency: 2, maxQueue: 8 })
    const { dispatcher } = limited({ maxConcurrency: 1 }, { maxQueue: 1 })
    await dispatcher.dispatch('chat', chat('m'))
    const waiting = dispatcher.dispatch('chat', chat('m'))
    await expect(dispatcher.dispatch('chat', chat('m'))).rejects.toBeInstanceOf(RateLimitError)
    expect(waiting).toBeInstanceOf(Promise)
  })

  test('a client that leaves while waiting for the model’s slot frees its place; the queue timeout applies there too', async () => {
    const { dispatcher, sinks, registry } = limited({ maxConcurrency: 1, maxQueue: 4 }, { queueTimeoutMs: 30 })
    await dispatcher.dispatch('chat', chat('m'))
    const client = new AbortController()
    const left = dispatcher.dispatch('chat', chat('m'), { signal: client.signal })
    await Bun.sleep(0)
    client.abort()
    await expect(left).rejects.toBeInstanceOf(CancelledError)
    await expect(dispatcher.dispatch('chat', chat('m'))).rejects.toBeInstanceOf(ServiceUnavailableError)
    expect(registry.limiter('m')!.queued).toBe(0)
    expect(sinks).toHaveLength(1)
  })
})

describe('client cancellation', () => {
  test('an aborted client signal fails the channel with CancelledError 499 and fires the handler signal', async () => {
    const { handler, sinks } = holdingHandler()
    const dispatcher = setup(handler)
    const client = new AbortController()
    const channel = await dispatcher.dispatch('chat', chat('m'), { signal: client.signal })
    const taken = channel.take()
    client.abort()
    const error = await taken.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CancelledError)
    expect(error).toMatchObject({ status: 499 })
    expect(sinks[0]!.signal.aborted).toBe(true)
    expect(sinks[0]!.signal.reason).toBe(error)
  })

  test('a client that left while queued is rejected with 499 and never runs', async () => {
    const { handler, sinks } = holdingHandler()
    const dispatcher = setup(handler, { maxConcurrency: 1 })
    const release = await dispatcher.limiter.acquire()
    const client = new AbortController()
    const queued = dispatcher.dispatch('chat', chat('m'), { signal: client.signal })
    await Bun.sleep(0)
    expect(dispatcher.limiter.queued).toBe(1)
    client.abort()
    await expect(queued).rejects.toBeInstanceOf(CancelledError)
    expect(dispatcher.limiter.queued).toBe(0)
    release()
    expect(sinks).toHaveLength(0)
  })

  test('a signal aborted with a typed error fails the request with that error, queued or running', async () => {
    const { handler, sinks } = holdingHandler()
    const dispatcher = setup(handler, { maxConcurrency: 1 })
    const running = new AbortController()
    const channel = await dispatcher.dispatch('chat', chat('m'), { signal: running.signal })
    const queuedSignal = new AbortController()
    const queued = dispatcher.dispatch('chat', chat('m'), { signal: () => queuedSignal.signal })
    await Bun.sleep(0)
    const takeover = new CancelledError('Cancelled by a newer request of the same session')
    queuedSignal.abort(takeover)
    await expect(queued).rejects.toBe(takeover)
    running.abort(takeover)
    await expect(channel.take()).rejects.toBe(takeover)
    expect(sinks).toHaveLength(1)
    expect(dispatcher.limiter.active).toBe(0)
  })

  test('an already aborted client signal never reaches the handler', async () => {
    const { handler, sinks } = holdingHandler()
    const dispatcher = setup(handler)
    await expect(dispatcher.dispatch('chat', chat('m'), { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CancelledError)
    expect(sinks).toHaveLength(0)
    expect(dispatcher.limiter.active).toBe(0)
  })
})

describe('concurrency', () => {
  test('the slot is released when the channel closes, and a queued request then runs', async () => {
    const { handler, sinks, nextStart } = holdingHandler()
    const dispatcher = setup(handler, { maxConcurrency: 1 })
    const firstStarted = nextStart()
    const first = await dispatcher.dispatch('chat', chat('m'))
    await firstStarted
    const secondStarted = nextStart()
    const second = dispatcher.dispatch('chat', chat('m'))
    await Bun.sleep(0)
    expect(sinks).toHaveLength(1)
    expect(dispatcher.limiter.active).toBe(1)
    expect(dispatcher.limiter.queued).toBe(1)

    // Closing the first channel (before its reader even took the output) frees the slot.
    sinks[0]!.push(OutputChunk.textDelta('one'))
    sinks[0]!.end()
    await secondStarted
    expect(sinks).toHaveLength(2)
    expect(dispatcher.limiter.active).toBe(1)
    expect(dispatcher.limiter.queued).toBe(0)
    expect(await first.take()).toEqual([OutputChunk.textDelta('one')])

    sinks[1]!.end()
    expect(await (await second).take()).toBeNull()
    expect(dispatcher.limiter.active).toBe(0)
  })

  test('a failed or cancelled request frees its slot too', async () => {
    const { handler, sinks } = holdingHandler()
    const dispatcher = setup(handler, { maxConcurrency: 1 })
    const client = new AbortController()
    await dispatcher.dispatch('chat', chat('m'), { signal: client.signal })
    client.abort()
    expect(dispatcher.limiter.active).toBe(0)
    await dispatcher.dispatch('chat', chat('m'))
    sinks[1]!.fail(new Error('x'))
    expect(dispatcher.limiter.active).toBe(0)
  })

  test('past the queue bound a request is refused with 429', async () => {
    const { handler, sinks } = holdingHandler()
    const dispatcher = setup(handler, { maxConcurrency: 1, maxQueue: 1 })
    await dispatcher.dispatch('chat', chat('m'))
    const queued = dispatcher.dispatch('chat', chat('m'))
    const error = await dispatcher.dispatch('chat', chat('m')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error).toMatchObject({ status: 429 })
    sinks[0]!.end()
    await queued
    expect(sinks).toHaveLength(2)
  })

  test('the handler sink is the channel with the dispatcher high-water mark', async () => {
    const { handler, sinks } = holdingHandler()
    const dispatcher = setup(handler, { highWaterMark: 2 })
    await dispatcher.dispatch('chat', chat('m'))
    expect(sinks[0]!.push(OutputChunk.textDelta('1'))).toBe(true)
    expect(sinks[0]!.push(OutputChunk.textDelta('2'))).toBe(false)
  })
})
