import { OutputChannel } from '../channel/output-channel.ts'
import type { Capability } from '../capability.ts'
import { CancelledError } from '../errors/cancelled-error.ts'
import { TimeoutError } from '../errors/timeout-error.ts'
import { ConcurrencyLimiter, type ConcurrencyLimits } from '../limits/concurrency-limiter.ts'
import type { CapabilityRequests } from '../registry/handlers.ts'
import type { ModelRegistry } from '../registry/model-registry.ts'

const MAX_TIMER_MS = 2 ** 31 - 1

export interface DispatcherOptions extends Partial<ConcurrencyLimits> {
  /** Milliseconds from arrival (queueing included) after which a request fails with 504; 0 or Infinity for none. */
  timeoutMs?: number
  /** Chunks a handler may run ahead of a slow client before `push` asks it to wait. */
  highWaterMark?: number
}

export interface DispatchOptions {
  /**
   * The client's signal: when it aborts, the handler's signal fires and its work stops. A function is
   * called only if the request is still running after its handler's first synchronous step, which
   * spares creating a signal for requests answered at once.
   */
  signal?: AbortSignal | (() => AbortSignal)
}

/**
 * Runs requests: routes by model, waits for a concurrency slot, starts the handler on a fresh channel,
 * and closes that channel on timeout or when the client leaves. The slot is freed when the channel closes.
 */
export class Dispatcher {
  readonly limiter: ConcurrencyLimiter
  #timeoutMs: number
  readonly #highWaterMark: number

  constructor(
    readonly registry: ModelRegistry,
    options: DispatcherOptions = {},
  ) {
    this.limiter = new ConcurrencyLimiter(options)
    this.#timeoutMs = options.timeoutMs ?? 600_000
    this.#highWaterMark = options.highWaterMark ?? 64
  }

  get timeoutMs(): number {
    return this.#timeoutMs
  }

  setTimeoutMs(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('timeout must be 0 (none) or a positive number of milliseconds')
    this.#timeoutMs = ms
  }

  async dispatch<K extends Capability>(
    capability: K,
    request: CapabilityRequests[K],
    options: DispatchOptions = {},
  ): Promise<OutputChannel> {
    const handler = this.registry.resolve(capability, request.model)
    if (typeof options.signal === 'object' && options.signal.aborted) throw new CancelledError('The client closed the request')
    const channel = new OutputChannel({ highWaterMark: this.#highWaterMark })
    const arrivedAt = performance.now()
    let disarm: (() => void) | undefined

    let release = this.limiter.tryAcquire()
    if (!release) {
      disarm = this.#arm(channel, arrivedAt, options.signal)
      try {
        release = await this.limiter.acquire(channel.signal)
      } catch (error) {
        disarm()
        channel.abort(error)
        throw error
      }
    }

    try {
      const result = handler(request, channel)
      if (result && typeof result.then === 'function') result.then(undefined, (error: unknown) => channel.fail(error))
    } catch (error) {
      channel.fail(error)
    }

    // Answered at once (the common case for light handlers): no timer, no signal, nothing to clean up.
    if (channel.closed && !disarm) {
      release()
      return channel
    }
    disarm ??= this.#arm(channel, arrivedAt, options.signal)
    const done = release
    const cleanUp = disarm
    channel.onClose(() => {
      done()
      cleanUp()
    })
    return channel
  }

  /** Closes the channel at the deadline (counted from arrival) or when the client leaves; returns the undo. */
  #arm(channel: OutputChannel, arrivedAt: number, signal: DispatchOptions['signal']): () => void {
    const timeoutMs = this.#timeoutMs
    const remaining = timeoutMs - (performance.now() - arrivedAt)
    // Timers take at most 2^31-1 ms and fire at once past it: clamp, and read Infinity as none.
    const timer =
      timeoutMs > 0 && timeoutMs !== Infinity
        ? setTimeout(() => channel.abort(new TimeoutError(`The request timed out after ${timeoutMs} ms`)), Math.min(Math.max(remaining, 0), MAX_TIMER_MS))
        : undefined
    const clientSignal = typeof signal === 'function' ? signal() : signal
    const onClientAbort = () => channel.abort(new CancelledError('The client closed the request'))
    if (clientSignal?.aborted) onClientAbort()
    else clientSignal?.addEventListener('abort', onClientAbort, { once: true })
    return () => {
      clearTimeout(timer)
      clientSignal?.removeEventListener('abort', onClientAbort)
    }
  }
}
