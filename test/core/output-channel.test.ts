import { describe, expect, test } from 'bun:test'
import {
  BadRequestError,
  CancelledError,
  InternalError,
  OutputChannel,
  OutputChunk,
  ProviderError,
  TimeoutError,
} from '@cy/core'

const delta = (text: string) => OutputChunk.textDelta(text)

/** Settles-or-not probe: true if `promise` settled within a few turns of the event loop. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  promise.then(
    () => (settled = true),
    () => (settled = true),
  )
  // A macrotask boundary: every microtask that could settle it has run by then.
  await Bun.sleep(0)
  return settled
}

describe('push and take', () => {
  test('take returns every buffered chunk in one batch, in order', async () => {
    const channel = new OutputChannel()
    expect(channel.push(delta('a'))).toBe(true)
    expect(channel.push(delta('b'))).toBe(true)
    expect(channel.push(delta('c'))).toBe(true)
    expect(channel.buffered).toBe(3)
    expect(await channel.take()).toEqual([delta('a'), delta('b'), delta('c')])
    expect(channel.buffered).toBe(0)
  })

  test('a pending take is woken by the next push', async () => {
    const channel = new OutputChannel()
    const taken = channel.take()
    expect(await hasSettled(taken)).toBe(false)
    channel.push(delta('x'))
    expect(await taken).toEqual([delta('x')])
  })

  test('after end, buffered chunks come first, then null', async () => {
    const channel = new OutputChannel()
    channel.push(delta('last'))
    channel.end()
    expect(channel.closed).toBe(true)
    expect(await channel.take()).toEqual([delta('last')])
    expect(await channel.take()).toBeNull()
    expect(await channel.take()).toBeNull()
  })

  test('end resolves a pending take with null', async () => {
    const channel = new OutputChannel()
    const taken = channel.take()
    channel.end()
    expect(await taken).toBeNull()
  })

  test('a second concurrent reader is refused', async () => {
    const channel = new OutputChannel()
    const first = channel.take()
    await expect(channel.take()).rejects.toThrow('OutputChannel has one reader')
    channel.push(delta('still for the first'))
    expect(await first).toEqual([delta('still for the first')])
  })

  test('push after close returns false and the chunk is dropped', async () => {
    const channel = new OutputChannel()
    channel.end()
    expect(channel.push(delta('late'))).toBe(false)
    expect(channel.buffered).toBe(0)
    expect(await channel.take()).toBeNull()
  })

  test('end and fail after close change nothing', async () => {
    const channel = new OutputChannel()
    channel.end()
    channel.fail(new Error('too late'))
    expect(await channel.take()).toBeNull()
  })
})

describe('fail', () => {
  test('a plain Error from a provider becomes ProviderError 502 with its message', async () => {
    const channel = new OutputChannel()
    const taken = channel.take()
    channel.fail(new Error('engine exploded'))
    const error = await taken.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProviderError)
    expect(error).toMatchObject({ status: 502, message: 'engine exploded', code: 'provider_error' })
  })

  test('an ApiError passes through as is', async () => {
    const channel = new OutputChannel()
    const original = new BadRequestError('bad prompt', { param: 'messages' })
    channel.fail(original)
    expect(channel.closed).toBe(true)
    const error = await channel.take().catch((e: unknown) => e)
    expect(error).toBe(original)
  })

  test('chunks pushed before the failure are still delivered, then the error', async () => {
    const channel = new OutputChannel()
    channel.push(delta('partial'))
    channel.fail(new Error('then it broke'))
    expect(await channel.take()).toEqual([delta('partial')])
    await expect(channel.take()).rejects.toBeInstanceOf(ProviderError)
  })

  test('an error chunk fails the channel with its message and code', async () => {
    const channel = new OutputChannel()
    const taken = channel.take()
    expect(channel.push(OutputChunk.error('out of memory', 'oom'))).toBe(false)
    expect(channel.closed).toBe(true)
    const error = await taken.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProviderError)
    expect(error).toMatchObject({ status: 502, message: 'out of memory', code: 'oom' })
  })

  test('an error chunk without a code gets provider_error', async () => {
    const channel = new OutputChannel()
    channel.push(OutputChunk.error('nope'))
    await expect(channel.take()).rejects.toMatchObject({ code: 'provider_error' })
  })
})

describe('back-pressure', () => {
  test('push returns false at the high-water mark, and ready() waits for the reader', async () => {
    const channel = new OutputChannel({ highWaterMark: 3 })
    expect(channel.push(delta('1'))).toBe(true)
    expect(channel.push(delta('2'))).toBe(true)
    expect(channel.push(delta('3'))).toBe(false)
    // Over the mark a push is still accepted: the flag is advice to the writer, not a drop.
    expect(channel.push(delta('4'))).toBe(false)
    expect(channel.buffered).toBe(4)

    const ready = channel.ready()
    expect(await hasSettled(ready)).toBe(false)
    expect(await channel.take()).toHaveLength(4)
    expect(await hasSettled(ready)).toBe(true)
    expect(channel.push(delta('5'))).toBe(true)
  })

  test('ready() resolves at once below the mark', async () => {
    const channel = new OutputChannel({ highWaterMark: 2 })
    channel.push(delta('1'))
    expect(await hasSettled(channel.ready())).toBe(true)
  })

  test('ready() waiters are released when the channel closes', async () => {
    const channel = new OutputChannel({ highWaterMark: 1 })
    channel.push(delta('1'))
    const ready = channel.ready()
    expect(await hasSettled(ready)).toBe(false)
    channel.abort(new CancelledError('gone'))
    expect(await hasSettled(ready)).toBe(true)
    expect(await hasSettled(channel.ready())).toBe(true)
  })

  test('a writer that awaits ready() never runs more than the mark ahead of a slow reader', async () => {
    const mark = 4
    const channel = new OutputChannel({ highWaterMark: mark })
    let maxBuffered = 0
    const writer = (async () => {
      for (let i = 0; i < 50; i++) {
        if (!channel.push(delta(String(i)))) await channel.ready()
        maxBuffered = Math.max(maxBuffered, channel.buffered)
      }
      channel.end()
    })()
    const seen: string[] = []
    for (;;) {
      await Bun.sleep(0) // a reader slower than the writer
      const chunks = await channel.take()
      if (chunks === null) break
      for (const chunk of chunks) if (chunk.type === 'text-delta') seen.push(chunk.text)
    }
    await writer
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => String(i)))
    expect(maxBuffered).toBeLessThanOrEqual(mark)
  })
})

describe('abort', () => {
  test('fires signal with the given reason and rejects a pending take with it', async () => {
    const channel = new OutputChannel()
    const reasons: unknown[] = []
    channel.signal.addEventListener('abort', () => reasons.push(channel.signal.reason))
    const taken = channel.take()
    const reason = new TimeoutError('too slow')
    channel.abort(reason)
    expect(channel.signal.aborted).toBe(true)
    expect(reasons).toEqual([reason])
    expect(channel.closed).toBe(true)
    expect(await taken.catch((e: unknown) => e)).toBe(reason)
  })

  test('drops buffered chunks: the reader gets the abort reason at once', async () => {
    const channel = new OutputChannel()
    channel.push(delta('unsent'))
    channel.abort(new CancelledError('client left'))
    expect(channel.buffered).toBe(0)
    await expect(channel.take()).rejects.toBeInstanceOf(CancelledError)
    expect(channel.push(delta('after'))).toBe(false)
  })

  test('a non-ApiError reason is hidden behind a 500 for the reader; the signal keeps the original', async () => {
    const channel = new OutputChannel()
    const reason = new Error('internal detail')
    channel.abort(reason)
    expect(channel.signal.reason).toBe(reason)
    const error = await channel.take().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InternalError)
    expect(error).toMatchObject({ status: 500, message: 'Internal server error' })
  })

  test('after end, abort still fires the signal (stops the writer) but the reader keeps a normal end', async () => {
    const channel = new OutputChannel()
    channel.push(delta('done'))
    channel.end()
    channel.abort(new CancelledError('late'))
    expect(channel.signal.aborted).toBe(true)
    expect(await channel.take()).toEqual([delta('done')])
    expect(await channel.take()).toBeNull()
  })

  test('a second abort keeps the first reason', async () => {
    const channel = new OutputChannel()
    const first = new TimeoutError('first')
    channel.abort(first)
    channel.abort(new CancelledError('second'))
    expect(channel.signal.reason).toBe(first)
    expect(await channel.take().catch((e: unknown) => e)).toBe(first)
  })
})

describe('onClose', () => {
  test('listeners run once, whatever closes the channel and however often', () => {
    const channel = new OutputChannel()
    let calls = 0
    channel.onClose(() => calls++)
    channel.onClose(() => calls++)
    expect(calls).toBe(0)
    channel.end()
    channel.fail(new Error('x'))
    channel.abort(new CancelledError('x'))
    channel.end()
    expect(calls).toBe(2)
  })

  for (const [how, close] of [
    ['end', (c: OutputChannel) => c.end()],
    ['fail', (c: OutputChannel) => c.fail(new Error('x'))],
    ['abort', (c: OutputChannel) => c.abort(new CancelledError('x'))],
    ['an error chunk', (c: OutputChannel) => c.push(OutputChunk.error('x'))],
  ] as const) {
    test(`run on ${how}`, () => {
      const channel = new OutputChannel()
      let calls = 0
      channel.onClose(() => calls++)
      close(channel)
      expect(calls).toBe(1)
    })
  }

  test('a listener added after close runs at once', () => {
    const channel = new OutputChannel()
    channel.end()
    let calls = 0
    channel.onClose(() => calls++)
    expect(calls).toBe(1)
  })

  test('a close listener sees the channel already closed', () => {
    const channel = new OutputChannel()
    let closedInListener: boolean | undefined
    channel.onClose(() => (closedInListener = channel.closed))
    channel.end()
    expect(closedInListener).toBe(true)
  })
})

describe('async iteration', () => {
  test('yields every chunk in order across batches and stops at end', async () => {
    const channel = new OutputChannel()
    const writer = (async () => {
      channel.push(delta('a'))
      channel.push(delta('b'))
      await Bun.sleep(1)
      channel.push(delta('c'))
      await Bun.sleep(1)
      channel.end()
    })()
    const texts: string[] = []
    for await (const chunk of channel) if (chunk.type === 'text-delta') texts.push(chunk.text)
    await writer
    expect(texts).toEqual(['a', 'b', 'c'])
  })

  test('throws the typed failure after the chunks before it', async () => {
    const channel = new OutputChannel()
    channel.push(delta('a'))
    channel.fail(new Error('broke'))
    const texts: string[] = []
    const error = await (async () => {
      for await (const chunk of channel) if (chunk.type === 'text-delta') texts.push(chunk.text)
    })().catch((e: unknown) => e)
    expect(texts).toEqual(['a'])
    expect(error).toBeInstanceOf(ProviderError)
  })

  test('a reader that stops early aborts the channel, so the handler stops too', async () => {
    const channel = new OutputChannel()
    channel.push(delta('a'))
    channel.push(delta('b'))
    for await (const chunk of channel) if (chunk.type === 'text-delta') break
    expect(channel.closed).toBe(true)
    expect(channel.signal.aborted).toBe(true)
    expect(channel.signal.reason).toBeInstanceOf(CancelledError)
  })

  test('a reader that reads to the end leaves the signal alone', async () => {
    const channel = new OutputChannel()
    channel.push(delta('a'))
    channel.end()
    for await (const _chunk of channel) {
      // read everything
    }
    expect(channel.signal.aborted).toBe(false)
  })
})
