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

describe('timeout', () => {
  test('fails the channel with TimeoutError 504 and fires the handler signal', async () => {
    const { handler, sinks } = holdingHandler()
    const dispatcher = setup(handler, { timeoutMs: 30 })
    const channel = await dispatcher.dispatch('chat', chat('m'))
    const error = await channel.take().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ status: 504, message: 'The request timed out after 30 ms' })
    expect(sinks).toHaveLength(1)
    expect(sinks[0]!.signal.aborted).toBe(true)
    expect(await abortReason(sinks[0]!.signal)).toBe(error)
    expect(sinks[0]!.closed).toBe(true)
  })

  test('a request timing out while queued fails with 504 and never runs its handler', async () => {
    let runs = 0
    const dispatcher = setup((_r, out) => {
      runs++
      out.end()
    }, { maxConcurrency: 1, timeoutMs: 30 })
    // Hold the only slot outside any request, so only the queued one can time out.
    const release = await dispatcher.limiter.acquire()
    const error = await dispatcher.dispatch('chat', chat('m')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ status: 504 })
    expect(dispatcher.limiter.queued).toBe(0)
    release()
    expect(dispatcher.limiter.active).toBe(0)
    expect(runs).toBe(0)
  })

  test('setTimeoutMs applies to later requests and refuses nonsense', async () => {
    const { handler } = holdingHandler()
    const dispatcher = setup(handler)
    dispatcher.setTimeoutMs(20)
    expect(dispatcher.timeoutMs).toBe(20)
    const channel = await dispatcher.dispatch('chat', chat('m'))
    await expect(channel.take()).rejects.toBeInstanceOf(TimeoutError)
    expect(() => dispatcher.setTimeoutMs(-1)).toThrow(RangeError)
    expect(() => dispatcher.setTimeoutMs(Number.NaN)).toThrow(RangeError)
  })

  test('Infinity and timeouts past the 2^31-1 ms timer range do not fire at once', async () => {
    for (const timeoutMs of [Infinity, 3_000_000_000]) {
      const { handler, sinks } = holdingHandler()
      const dispatcher = setup(handler, { timeoutMs })
      const channel = await dispatcher.dispatch('chat', chat('m'))
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
