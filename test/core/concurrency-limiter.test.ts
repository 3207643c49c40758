import { describe, expect, test } from 'bun:test'
import { CancelledError, ConcurrencyLimiter, RateLimitError, TimeoutError } from '@cy/core'

/** Lets every pending microtask (promise continuation) run. */
const flush = () => Bun.sleep(0)

describe('ConcurrencyLimiter', () => {
  test('grants at once below the limit and keeps at most N active', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 2 })
    const releases: Array<() => void> = []
    let granted = 0
    for (let i = 0; i < 5; i++) {
      limiter.acquire().then((release) => {
        granted++
        releases.push(release)
      })
    }
    await flush()
    expect(granted).toBe(2)
    expect(limiter.active).toBe(2)
    expect(limiter.queued).toBe(3)

    // Each release lets exactly one waiter in; active never goes past the limit.
    while (releases.length > 0) {
      releases.shift()!()
      await flush()
      expect(limiter.active).toBeLessThanOrEqual(2)
    }
    expect(granted).toBe(5)
    expect(limiter.active).toBe(0)
    expect(limiter.queued).toBe(0)
  })

  test('waiters are granted in FIFO order', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1 })
    const first = await limiter.acquire()
    const order: number[] = []
    const releases = new Map<number, () => void>()
    for (const id of [1, 2, 3, 4]) {
      limiter.acquire().then((release) => {
        order.push(id)
        releases.set(id, release)
      })
    }
    first()
    for (const id of [1, 2, 3, 4]) {
      await flush()
      releases.get(id)!()
    }
    await flush()
    expect(order).toEqual([1, 2, 3, 4])
  })

  test('a higher priority is granted first; equal priorities keep FIFO order; the default is 0', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1 })
    const holder = await limiter.acquire()
    const order: string[] = []
    const releases = new Map<string, () => void>()
    const wait = (id: string, priority?: number) =>
      limiter.acquire(undefined, Infinity, priority).then((release) => {
        order.push(id)
        releases.set(id, release)
      })
    // Queued in this order while the only slot is held.
    void wait('low-a', -1)
    void wait('default-a')
    void wait('high-a', 5)
    void wait('default-b', 0)
    void wait('high-b', 5)
    void wait('mid', 2)
    void wait('low-b', -1)
    expect(limiter.queued).toBe(7)
    holder()
    for (let granted = 0; granted < 7; granted++) {
      await flush()
      releases.get(order.at(-1)!)!()
    }
    await flush()
    expect(order).toEqual(['high-a', 'high-b', 'mid', 'default-a', 'default-b', 'low-a', 'low-b'])
  })

  test('an aborted high-priority waiter leaves the queue without disturbing the order of the rest', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1 })
    const holder = await limiter.acquire()
    const controller = new AbortController()
    const order: string[] = []
    const gone = limiter.acquire(controller.signal, Infinity, 9)
    const rest = [
      limiter.acquire(undefined, Infinity, 1).then((release) => (order.push('one'), release)),
      limiter.acquire(undefined, Infinity, 3).then((release) => (order.push('three'), release)),
    ]
    controller.abort(new CancelledError('left'))
    await expect(gone).rejects.toBeInstanceOf(CancelledError)
    holder()
    ;(await rest[1]!)()
    ;(await rest[0]!)()
    expect(order).toEqual(['three', 'one'])
    expect(limiter.active).toBe(0)
  })

  test('0 and Infinity mean no limit', async () => {
    for (const maxConcurrency of [0, Infinity]) {
      const limiter = new ConcurrencyLimiter({ maxConcurrency })
      await Promise.all(Array.from({ length: 100 }, () => limiter.acquire()))
      expect(limiter.active).toBe(100)
      expect(limiter.queued).toBe(0)
    }
  })

  test('a full queue rejects at once with RateLimitError 429 rate_limit_exceeded', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1, maxQueue: 2 })
    await limiter.acquire()
    const waiting = [limiter.acquire(), limiter.acquire()]
    const error = await limiter.acquire().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' })
    expect((error as Error).message).toContain('1 running and 2 waiting')
    expect(limiter.queued).toBe(2)
    void waiting
  })

  test('a 429 carries a retry hint; a caller can bound the queue tighter than the limiter’s own', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1, maxQueue: 10 })
    await limiter.acquire()
    const waiting = limiter.acquire(undefined, 1)
    const error = (await limiter.acquire(undefined, 1).catch((e: unknown) => e)) as RateLimitError
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error.retryAfterSeconds).toBe(1)
    expect(limiter.queued).toBe(1)
    void waiting
  })

  test('maxQueue 0 means no waiting at all', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1, maxQueue: 0 })
    await limiter.acquire()
    await expect(limiter.acquire()).rejects.toBeInstanceOf(RateLimitError)
  })

  test('abort while queued removes the waiter and rejects with the signal reason', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1 })
    const holder = await limiter.acquire()
    const controller = new AbortController()
    const aborted = limiter.acquire(controller.signal)
    let nextGranted = false
    const next = limiter.acquire().then((release) => {
      nextGranted = true
      return release
    })
    expect(limiter.queued).toBe(2)

    const reason = new CancelledError('client left')
    controller.abort(reason)
    expect(await aborted.catch((e: unknown) => e)).toBe(reason)
    expect(limiter.queued).toBe(1)

    // The slot goes to the next waiter, not to the aborted one.
    holder()
    ;(await next)()
    expect(nextGranted).toBe(true)
    expect(limiter.active).toBe(0)
  })

  test('an already aborted signal rejects at once without taking a slot', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1 })
    const reason = new TimeoutError('late')
    await expect(limiter.acquire(AbortSignal.abort(reason))).rejects.toBe(reason)
    expect(limiter.active).toBe(0)
    expect(limiter.queued).toBe(0)
  })

  test('aborting after the grant does nothing', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1 })
    const controller = new AbortController()
    const release = await limiter.acquire(controller.signal)
    controller.abort(new CancelledError('x'))
    expect(limiter.active).toBe(1)
    release()
    expect(limiter.active).toBe(0)
  })

  test('release is idempotent: a double release frees one slot only', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1 })
    const release = await limiter.acquire()
    let granted = 0
    limiter.acquire().then(() => granted++)
    limiter.acquire().then(() => granted++)
    release()
    release()
    release()
    await flush()
    expect(granted).toBe(1)
    expect(limiter.active).toBe(1)
    expect(limiter.queued).toBe(1)
  })

  test('raising maxConcurrency with set() grants waiters', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1 })
    await limiter.acquire()
    let granted = 0
    for (let i = 0; i < 3; i++) limiter.acquire().then(() => granted++)
    await flush()
    expect(granted).toBe(0)
    limiter.set({ maxConcurrency: 3 })
    await flush()
    expect(granted).toBe(2)
    expect(limiter.active).toBe(3)
    expect(limiter.queued).toBe(1)
    expect(limiter.limits).toEqual({ maxConcurrency: 3, maxQueue: 1024 })
  })

  test('lowering maxConcurrency stops new grants until enough slots are freed', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 3 })
    const held = await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()])
    limiter.set({ maxConcurrency: 1 })
    let granted = false
    limiter.acquire().then(() => (granted = true))
    held[0]!()
    held[1]!()
    await flush()
    expect(granted).toBe(false)
    held[2]!()
    await flush()
    expect(granted).toBe(true)
  })
})
