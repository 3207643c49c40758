import type { OutputChannel } from '../channel/output-channel.ts'
import type { Capability } from '../capability.ts'
import { ConcurrencyLimiter, type ConcurrencyLimits } from '../limits/concurrency-limiter.ts'
import type { CapabilityRequests, Handler } from '../registry/handlers.ts'
import type { ModelRegistry } from '../registry/model-registry.ts'
import type { DispatchTrace } from './dispatch-trace.ts'
import { DEFAULT_TIMEOUTS, resolveTimeouts, type RequestTimeouts } from './request-timeouts.ts'
import { clientAbortReason } from '../errors/client-abort-reason.ts'
import { RequestWatch } from './request-watch.ts'
import { WatchedChannel } from './watched-channel.ts'

export interface DispatcherOptions extends Partial<ConcurrencyLimits>, Partial<RequestTimeouts> {
  /** Sets the queue, first-output and idle timeouts at once (each phase's own limit); the specific options win. */
  timeoutMs?: number
  /** Chunks a handler may run ahead of a slow client before `push` asks it to wait. */
  highWaterMark?: number
}

export interface DispatchOptions {
  /**
   * The client's signal: when it aborts, the handler's signal fires and its work stops (with the signal's
   * reason when that is a typed error). A function is called only if the request waits for a slot or is
   * still running after its handler's first synchronous step, which spares creating a signal for
   * requests answered at once.
   */
  signal?: AbortSignal | (() => AbortSignal)
  /** Filled in as the request goes (model, queue wait, first output, usage, failure): for metrics and logs. */
  trace?: DispatchTrace
  /** Its place in the queues while it waits for a slot: higher first, first come first within one (default 0). */
  priority?: number
  /** A cluster worker's id to prefer when it serves the model and is ready (set on the handler's sink). */
  workerHint?: string
}

type Release = () => void

/**
 * Runs requests: routes by model, waits for a slot of the model's own limiter (if it has one) and then a
 * server-wide one, starts the handler on a fresh channel, and closes that channel when the client leaves
 * or a timeout passes (the queue wait, the first output, the gap between outputs). The slots are freed
 * when the channel closes.
 */
export class Dispatcher {
  readonly limiter: ConcurrencyLimiter
  #timeouts: RequestTimeouts
  readonly #highWaterMark: number
  #waiting = 0

  constructor(
    readonly registry: ModelRegistry,
    options: DispatcherOptions = {},
  ) {
    this.limiter = new ConcurrencyLimiter(options)
    this.#timeouts = resolveTimeouts(DEFAULT_TIMEOUTS, options)
    this.#highWaterMark = options.highWaterMark ?? 64
  }

  /** Requests waiting for a slot, their model's or the server's (`limiter.queued` counts only the server's). */
  get waiting(): number {
    return this.#waiting
  }

  get timeouts(): Readonly<RequestTimeouts> {
    return this.#timeouts
  }

  /** Changes some of the timeouts for later requests (0 for none). */
  setTimeouts(timeouts: Partial<RequestTimeouts>): void {
    this.#timeouts = resolveTimeouts(this.#timeouts, timeouts)
  }

  /** Sets all three timeouts to `ms` (0 for none). */
  setTimeoutMs(ms: number): void {
    this.#timeouts = resolveTimeouts(this.#timeouts, { timeoutMs: ms })
  }

  /**
   * Routes the request, waits for a slot, and starts its handler; resolves with the handler's output
   * channel. Routing errors and a refused request reject before anything runs.
   */
  async dispatch<K extends Capability>(
    capability: K,
    request: CapabilityRequests[K],
    options: DispatchOptions = {},
  ): Promise<OutputChannel> {
    // A model still loading (or unloaded, and loaded on demand) is waited for, as long as a slot would be.
    const loading = this.registry.whenReady(request.model, { signal: options.signal, timeoutMs: this.#timeouts.queueTimeoutMs })
    if (loading) await loading
    const handler = this.registry.resolve(capability, request.model)
    const trace = options.trace
    if (trace) trace.model = request.model
    this.registry.checkParameters(capability, request)
    if (typeof options.signal === 'object' && options.signal.aborted) throw clientAbortReason(options.signal)
    const channel = new WatchedChannel({ highWaterMark: this.#highWaterMark })
    if (options.workerHint) channel.workerHint = options.workerHint
    if (options.priority) channel.priority = options.priority
    this.registry.track(request.model, channel)
    if (trace) {
      trace.channel = channel
      channel.trace = trace
      trace.queuedMs = 0
    }
    const modelLimiter = this.registry.limiter(request.model)
    const modelRelease = modelLimiter?.tryAcquire()
    if (!modelLimiter || modelRelease) {
      const release = this.limiter.tryAcquire()
      if (release) return this.#run(handler, request, channel, modelRelease ? both(release, modelRelease) : release, undefined, options.signal)
    }
    return this.#queue(handler, request, channel, modelLimiter, modelRelease, options.signal)
  }

  async #queue<Request>(
    handler: Handler<Request>,
    request: Request,
    channel: WatchedChannel,
    modelLimiter: ConcurrencyLimiter | undefined,
    modelRelease: Release | undefined,
    signal: DispatchOptions['signal'],
  ): Promise<OutputChannel> {
    const priority = channel.priority ?? 0
    const watch = new RequestWatch(channel, this.#timeouts, signal)
    watch.queued()
    const queuedAt = channel.trace ? performance.now() : 0
    let release: Release
    this.#waiting++
    try {
      // The model's slot first: waiting for a busy model must not hold a server-wide slot.
      if (modelLimiter && !modelRelease) modelRelease = await modelLimiter.acquire(channel.signal, this.limiter.limits.maxQueue, priority)
      const serverRelease = await this.limiter.acquire(channel.signal, Infinity, priority)
      release = modelRelease ? both(serverRelease, modelRelease) : serverRelease
    } catch (error) {
      modelRelease?.()
      watch.stop()
      channel.abort(error)
      throw error
    } finally {
      this.#waiting--
      if (channel.trace) channel.trace.queuedMs = performance.now() - queuedAt
    }
    return this.#run(handler, request, channel, release, watch, signal)
  }

  #run<Request>(
    handler: Handler<Request>,
    request: Request,
    channel: WatchedChannel,
    release: Release,
    queuedWatch: RequestWatch | undefined,
    signal: DispatchOptions['signal'],
  ): OutputChannel {
    if (channel.trace) channel.trace.startedAt = performance.now()
    try {
      const result = handler(request, channel)
      if (result && typeof result.then === 'function') result.then(undefined, (error: unknown) => channel.fail(error))
    } catch (error) {
      channel.fail(error)
    }
    // Answered at once (the common case for light handlers): no timer, no signal, nothing to clean up.
    if (channel.closed && !queuedWatch) {
      release()
      return channel
    }
    const watch = queuedWatch ?? new RequestWatch(channel, this.#timeouts, signal)
    watch.running()
    channel.onClose(() => {
      release()
      watch.stop()
    })
    return channel
  }
}

function both(first: Release, second: Release): Release {
  return () => {
    first()
    second()
  }
}
