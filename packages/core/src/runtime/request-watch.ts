import { ServiceUnavailableError } from '../errors/service-unavailable-error.ts'
import { TimeoutError } from '../errors/timeout-error.ts'
import { RETRY_AFTER_SECONDS } from '../limits/concurrency-limiter.ts'
import type { RequestTimeouts } from './request-timeouts.ts'
import type { WatchedChannel } from './watched-channel.ts'
import { MAX_TIMER_MS } from './max-timer-delay.ts'
import { clientAbortReason } from '../errors/client-abort-reason.ts'

const hasLimit = (ms: number) => ms > 0 && ms !== Infinity
/** Idle checks per idle period: a stall is caught within 1¼ idle timeouts, never before one. */
const IDLE_CHECKS = 4

/**
 * Watches one request: closes its channel when the client leaves (with the signal's reason when that is a
 * typed error, as the session gate's takeover is), and runs its timers: the queue wait, then the first
 * output, then the gaps between outputs. One timer at a time.
 */
export class RequestWatch {
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly #signal: AbortSignal | undefined
  readonly #onClientAbort = () => this.channel.abort(clientAbortReason(this.#signal!))

  constructor(
    readonly channel: WatchedChannel,
    readonly timeouts: Readonly<RequestTimeouts>,
    signal: AbortSignal | (() => AbortSignal) | undefined,
  ) {
    this.#signal = typeof signal === 'function' ? signal() : signal
    if (this.#signal?.aborted) this.#onClientAbort()
    else this.#signal?.addEventListener('abort', this.#onClientAbort, { once: true })
  }

  /** Waiting for a slot. */
  queued(): void {
    const ms = this.timeouts.queueTimeoutMs
    this.#arm(ms, () =>
      this.channel.abort(new ServiceUnavailableError(`The request waited ${ms} ms for a free slot`, { code: 'queue_timeout', retryAfterSeconds: RETRY_AFTER_SECONDS })),
    )
  }

  /** The handler has started: the first-output timeout, or the idle one if it already wrote. */
  running(): void {
    if (this.channel.outputs > 0) return this.#idle()
    this.channel.onFirstOutput = () => this.#idle()
    const ms = this.timeouts.firstTokenTimeoutMs
    this.#arm(ms, () => this.channel.abort(new TimeoutError(`The model sent no output within ${ms} ms`)))
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.channel.onFirstOutput = undefined
    this.#signal?.removeEventListener('abort', this.#onClientAbort)
  }

  #idle(): void {
    const channel = this.channel
    channel.onFirstOutput = undefined
    clearTimeout(this.#timer)
    this.#timer = undefined
    const ms = this.timeouts.idleTimeoutMs
    if (!hasLimit(ms)) return
    let seen = channel.outputs
    let quietSince = performance.now()
    const step = Math.min(Math.max(ms / IDLE_CHECKS, 1), MAX_TIMER_MS)
    const check = () => {
      // Output since the last look, or output the reader has not taken yet (a slow client, not a stalled model).
      if (channel.outputs !== seen || channel.buffered > 0) {
        seen = channel.outputs
        quietSince = performance.now()
      } else if (performance.now() - quietSince >= ms) {
        channel.abort(new TimeoutError(`The model sent no output for ${ms} ms`))
        return
      }
      this.#timer = setTimeout(check, step)
    }
    this.#timer = setTimeout(check, step)
  }

  #arm(ms: number, fire: () => void): void {
    clearTimeout(this.#timer)
    this.#timer = hasLimit(ms) ? setTimeout(fire, Math.min(ms, MAX_TIMER_MS)) : undefined
  }
}
