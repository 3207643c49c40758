import { OutputChannel } from '../channel/output-channel.ts'
import type { Capability } from '../capability.ts'
import { CancelledError } from '../errors/cancelled-error.ts'
import { TimeoutError } from '../errors/timeout-error.ts'
import { ConcurrencyLimiter, type ConcurrencyLimits } from '../limits/concurrency-limiter.ts'
import type { CapabilityRequests, Handler } from '../registry/handlers.ts'
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

  /** Routes the request, waits for a slot, and starts its handler; resolves with the handler's output channel. */
  async dispatch<K extends Capability>(
    capability: K,
    request: CapabilityRequests[K],
    options: DispatchOptions = {},
  ): Promise<OutputChannel> {
    return this.begin(capability, request, options)
  }

  /**
   * `dispatch` without a promise when a slot is free at once: the hot path of small requests, where
   * every promise and microtask shows. Throws (routing) or rejects (queueing) as `dispatch` does.
   */
  begin<K extends Capability>(
    capability: K,
    request: CapabilityRequests[K],
    options: DispatchOptions = {},
  ): OutputChannel | Promise<OutputChannel> {
    const handler = this.registry.resolve(capability, request.model)
    if (typeof options.signal === 'object' && options.signal.aborted) throw new CancelledError('The client closed the request')
    const channel = new OutputChannel({ highWaterMark: this.#highWaterMark })
    const arrivedAt = performance.now()
    const release = this.limiter.tryAcquire()
    if (release) return this.#run(handler, request, channel, release, undefined, arrivedAt, options.signal)
    return this.#queue(handler, request, channel, arrivedAt, options.signal)
  }

  async #queue<Request>(
    handler: Handler<Request>,
    request: Request,
    channel: OutputChannel,
    arrivedAt: number,
    signal: DispatchOptions['signal'],
  ): Promise<OutputChannel> {
    const disarm = this.#arm(channel, arrivedAt, signal)
    let release: () => void
    try {
      release = await this.limiter.acquire(channel.signal)
    } catch (error) {
      disarm()
      channel.abort(error)
      throw error
    }
    return this.#run(handler, request, channel, release, disarm, arrivedAt, signal)
  }

  #run<Request>(
    handler: Handler<Request>,
    request: Request,
    channel: OutputChannel,
    release: () => void,
    armed: (() => void) | undefined,
    arrivedAt: number,
    signal: DispatchOptions['signal'],
  ): OutputChannel {
    try {
      const result = handler(request, channel)
      if (result && typeof result.then === 'function') result.then(undefined, (error: unknown) => channel.fail(error))
    } catch (error) {
      channel.fail(error)
    }
    // Answered at once (the common case for light handlers): no timer, no signal, nothing to clean up.
    if (channel.closed && !armed) {
      release()
      return channel
    }
    const disarm = armed ?? this.#arm(channel, arrivedAt, signal)
    channel.onClose(() => {
      release()
      disarm()
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
