import { RateLimitError } from '../errors/rate-limit-error.ts'

export interface ConcurrencyLimits {
  /** Requests that run at once; 0 or Infinity for no limit. */
  maxConcurrency: number
  /** Requests that may wait for a slot; past it new requests get 429. */
  maxQueue: number
}

/** What a refused client is told to wait: short, since a slot frees whenever any request ends. */
export const RETRY_AFTER_SECONDS = 1

type Ticket = { grant: () => void; reject: (reason: unknown) => void; priority: number }

/** A counting semaphore with a bounded priority queue: higher priority first, first come first within a priority. */
export class ConcurrencyLimiter {
  #limits: ConcurrencyLimits
  #active = 0
  readonly #queue: Ticket[] = []

  constructor(limits: Partial<ConcurrencyLimits> = {}) {
    this.#limits = { maxConcurrency: limits.maxConcurrency ?? Infinity, maxQueue: limits.maxQueue ?? 1024 }
  }

  get active(): number {
    return this.#active
  }

  get queued(): number {
    return this.#queue.length
  }

  get limits(): Readonly<ConcurrencyLimits> {
    return this.#limits
  }

  set(limits: Partial<ConcurrencyLimits>): void {
    this.#limits = { ...this.#limits, ...limits }
    this.#grantWaiting()
  }

  /** A slot now, without waiting, or undefined when none is free (or others are already waiting). */
  tryAcquire(): (() => void) | undefined {
    return this.#queue.length === 0 && this.#hasFreeSlot() ? this.#take() : undefined
  }

  /**
   * Waits for a slot and returns the function that gives it back (idempotent).
   * Rejects at once with 429 when the queue is full (its own bound, or `maxQueue` if smaller), or with
   * the signal's reason if it aborts while waiting. A waiter with a higher `priority` (default 0) is
   * granted before those of lower ones, whenever they came.
   */
  acquire(signal?: AbortSignal, maxQueue = Infinity, priority = 0): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.#hasFreeSlot()) return Promise.resolve(this.#take())
    if (this.#queue.length >= Math.min(this.#limits.maxQueue, maxQueue)) {
      return Promise.reject(
        new RateLimitError(`Too many requests: ${this.#active} running and ${this.#queue.length} waiting. Try again later.`, {
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        }),
      )
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.#queue.indexOf(ticket)
        if (index >= 0) this.#queue.splice(index, 1)
        reject(signal!.reason)
      }
      const ticket: Ticket = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve(this.#take())
        },
        reject,
        priority,
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#enqueue(ticket)
    })
  }

  /** Behind every waiter of its priority or higher; scanning from the back keeps the usual all-equal case O(1). */
  #enqueue(ticket: Ticket): void {
    let index = this.#queue.length
    while (index > 0 && this.#queue[index - 1]!.priority < ticket.priority) index--
    this.#queue.splice(index, 0, ticket)
  }

  #hasFreeSlot(): boolean {
    const max = this.#limits.maxConcurrency
    return !(max > 0 && max !== Infinity) || this.#active < max
  }

  #take(): () => void {
    this.#active++
    let released = false
    return () => {
      if (released) return
      released = true
      this.#active--
      this.#grantWaiting()
    }
  }

  #grantWaiting(): void {
    while (this.#queue.length > 0 && this.#hasFreeSlot()) this.#queue.shift()!.grant()
  }
}
