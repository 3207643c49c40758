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
  /** The client's signal: when it aborts, the handler's signal fires and its work stops. */
  signal?: AbortSignal
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
    const channel = new OutputChannel({ highWaterMark: this.#highWaterMark })

    const timeoutMs = this.#timeoutMs
    // Timers take at most 2^31-1 ms and fire at once past it: clamp, and read Infinity as none.
    const timer =
      timeoutMs > 0 && timeoutMs !== Infinity
        ? setTimeout(() => channel.abort(new TimeoutError(`The request timed out after ${timeoutMs} ms`)), Math.min(timeoutMs, MAX_TIMER_MS))
        : undefined
    const clientSignal = options.signal
    const onClientAbort = () => channel.abort(new CancelledError('The client closed the request'))
    if (clientSignal?.aborted) onClientAbort()
    else clientSignal?.addEventListener('abort', onClientAbort, { once: true })
    const cleanUp = () => {
      clearTimeout(timer)
      clientSignal?.removeEventListener('abort', onClientAbort)
    }

    let release: () => void
    try {
      release = await this.limiter.acquire(channel.signal)
    } catch (error) {
      cleanUp()
      channel.abort(error)
      throw error
    }
    channel.onClose(() => {
      release()
      cleanUp()
    })

    try {
      const result = handler(request, channel)
      if (result && typeof result.then === 'function') result.then(undefined, (error: unknown) => channel.fail(error))
    } catch (error) {
      channel.fail(error)
    }
    return channel
  }
}
