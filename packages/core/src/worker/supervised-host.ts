import type { OutputSink } from '../channel/output-channel.ts'
import type { EngineStatus, EngineStatusSource } from '../adapter/v1/engine-status.ts'
import { ServiceUnavailableError } from '../errors/service-unavailable-error.ts'
import { WorkerHost, type WorkerHostOptions } from './worker-host.ts'

/** When an engine that died is started again, and when it is given up on. */
export interface RestartPolicy {
  /** Restarts within `windowMs` before the engine stays failed (default 5). */
  maxRestarts: number
  /** Wait before the first restart (default 500 ms), doubling with each one in the window. */
  backoffMs: number
  /** The longest wait (default 30 s). */
  maxBackoffMs: number
  /** Crashes older than this no longer count (default 60 s). */
  windowMs: number
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { maxRestarts: 5, backoffMs: 500, maxBackoffMs: 30_000, windowMs: 60_000 }

export interface SupervisedHostOptions extends Omit<WorkerHostOptions, 'onExit'> {
  /** The call that loads the engine, run at start and again after every restart. */
  load: { method: string; args: unknown }
  restart?: Partial<RestartPolicy>
}

/**
 * A `WorkerHost` that is started again when its engine dies. The calls in flight fail with the 502 the
 * host gives them; the status goes `restarting`, the engine is started after a back-off and loaded with the
 * same arguments, and the status goes `ready` again. Calls made meanwhile wait for that. Past
 * `maxRestarts` crashes in the window it stays `failed` with the reason, and calls get 503 until disposed.
 */
export class SupervisedHost {
  readonly #url: string | URL
  readonly #options: SupervisedHostOptions
  readonly #policy: RestartPolicy
  readonly #listeners = new Set<(status: EngineStatus) => void>()
  #host: WorkerHost
  #state: EngineStatus['state'] | 'disposed' = 'ready'
  #failure = ''
  #restarting: Promise<void> | undefined
  #crashes: number[] = []
  #wakeFromBackoff: (() => void) | undefined

  private constructor(url: string | URL, options: SupervisedHostOptions) {
    this.#url = url
    this.#options = options
    this.#policy = { ...DEFAULT_RESTART_POLICY, ...options.restart }
    this.#host = this.#spawn()
  }

  /** Starts the engine and loads it; a first load that fails throws (nothing was ever ready to restart). */
  static async start<T>(url: string | URL, options: SupervisedHostOptions): Promise<{ host: SupervisedHost; loaded: T }> {
    const host = new SupervisedHost(url, options)
    try {
      const loaded = await host.#host.call<T>(options.load.method, options.load.args)
      return { host, loaded }
    } catch (error) {
      host.terminate()
      throw error
    }
  }

  get status(): EngineStatus {
    if (this.#state === 'failed' || this.#state === 'disposed') return { state: 'failed', reason: this.#failure || 'disposed' }
    if (this.#state === 'restarting') return { state: 'restarting', reason: this.#failure, attempt: this.#crashes.length }
    return { state: 'ready' }
  }

  /** The running host (its transport tells the child's pid). */
  get current(): WorkerHost {
    return this.#host
  }

  readonly onStatus: EngineStatusSource = (listener) => {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** As `WorkerHost.call`; while the engine restarts the call waits for it (or for its own cancel). */
  async call<T = unknown>(method: string, args: unknown, out?: OutputSink, transfer?: Transferable[]): Promise<T> {
    while (this.#state === 'restarting') await this.#untilRestarted(out?.signal)
    if (this.#state === 'failed') throw new ServiceUnavailableError(`The engine of '${this.#options.name}' failed: ${this.#failure}`, { retryAfterSeconds: 60 })
    return this.#host.call<T>(method, args, out, transfer)
  }

  /** Stops the engine for good; calls in flight fail, and it is not restarted. */
  terminate(): void {
    this.#state = 'disposed'
    this.#wakeFromBackoff?.()
    this.#host.terminate()
  }

  #spawn(): WorkerHost {
    const host: WorkerHost = new WorkerHost(this.#url, {
      ...this.#options,
      onExit: (error) => {
        // A crash while a restart loads it is that restart's failure, handled there.
        if (host !== this.#host || this.#state !== 'ready') return
        this.#state = 'restarting'
        this.#restarting = this.#restart(error.message)
      },
    })
    return host
  }

  async #restart(reason: string): Promise<void> {
    for (;;) {
      const now = Date.now()
      this.#crashes = this.#crashes.filter((at) => now - at < this.#policy.windowMs)
      this.#crashes.push(now)
      const attempt = this.#crashes.length
      this.#failure = reason
      if (attempt > this.#policy.maxRestarts) {
        this.#failure = `${reason}; gave up after ${this.#policy.maxRestarts} restarts within ${this.#policy.windowMs / 1000} s`
        this.#state = 'failed'
        return this.#emit({ state: 'failed', reason: this.#failure })
      }
      this.#emit({ state: 'restarting', reason, attempt })
      await this.#backoff(Math.min(this.#policy.backoffMs * 2 ** (attempt - 1), this.#policy.maxBackoffMs))
      if (this.#disposed()) return
      try {
        this.#host = this.#spawn()
        await this.#host.call(this.#options.load.method, this.#options.load.args)
      } catch (error) {
        if (this.#disposed()) return
        this.#host.terminate()
        reason = (error as Error).message
        continue
      }
      if (this.#disposed()) return
      this.#state = 'ready'
      return this.#emit({ state: 'ready' })
    }
  }

  // A method, not a comparison, so that TypeScript does not narrow the state across the awaits above.
  #disposed(): boolean {
    return this.#state === 'disposed'
  }

  #backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#wakeFromBackoff = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  #untilRestarted(signal: AbortSignal | undefined): Promise<void> {
    const restarted = this.#restarting ?? Promise.resolve()
    if (!signal) return restarted
    if (signal.aborted) return Promise.reject(signal.reason)
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      restarted.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  #emit(status: EngineStatus): void {
    for (const listener of this.#listeners) {
      try {
        listener(status)
      } catch {
        // A listener's failure is its own: the others still hear.
      }
    }
  }
}
