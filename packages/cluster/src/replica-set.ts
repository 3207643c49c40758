import type { Capability, ModelStatus } from '@cy/core'
import type { ModelOptions } from '@cy/http'

export interface RemoteWorker {
  id: string
  url: string
  secret: string | undefined
  /** Requests forwarded to this worker and not yet finished. */
  inFlight: number
  /** When a call to it last failed to connect (0: never, or it heart-beat since). */
  failedAt: number
}

/**
 * The workers that serve one model name: one, or several with `allowReplicas`. Requests go to the one
 * with the fewest in flight; one that just failed to answer goes last until it heart-beats again.
 */
export class ReplicaSet {
  readonly workers: RemoteWorker[] = []
  /** Each worker's state of the model: requests go to ready ones only. */
  readonly #states = new Map<RemoteWorker, ModelStatus>()

  constructor(
    readonly model: string,
    readonly capabilities: Capability[],
    /** How the model takes tools, as its worker registered it. */
    readonly tools: Pick<ModelOptions, 'toolCalls' | 'toolValidation' | 'supports'> = {},
  ) {}

  add(worker: RemoteWorker, status: ModelStatus = { state: 'ready' }): void {
    if (!this.workers.includes(worker)) this.workers.push(worker)
    this.#states.set(worker, status)
  }

  remove(worker: RemoteWorker): void {
    const index = this.workers.indexOf(worker)
    if (index >= 0) this.workers.splice(index, 1)
    this.#states.delete(worker)
  }

  setStatus(worker: RemoteWorker, status: ModelStatus): void {
    if (this.workers.includes(worker)) this.#states.set(worker, status)
  }

  statusOf(worker: RemoteWorker): ModelStatus | undefined {
    return this.#states.get(worker)
  }

  /** The model's state at the master: ready when one worker is, else loading when one is, else the first's. */
  get status(): ModelStatus {
    const states = this.workers.map((worker) => this.#states.get(worker) ?? { state: 'ready' as const })
    return states.find((s) => s.state === 'ready') ?? states.find((s) => s.state === 'loading') ?? states[0] ?? { state: 'unloaded' }
  }

  get size(): number {
    return this.workers.length
  }

  /**
   * The best worker not in `tried`, or undefined when every one was tried. `hint` (a worker id the client
   * asked for) wins when that worker is ready and has not just failed; otherwise it is the usual choice.
   */
  pick(tried: ReadonlySet<RemoteWorker>, hint?: string): RemoteWorker | undefined {
    const hinted = hint === undefined ? undefined : this.workers.find((worker) => worker.id === hint)
    if (hinted && !tried.has(hinted) && hinted.failedAt === 0 && this.#states.get(hinted)?.state === 'ready') return hinted
    let best: RemoteWorker | undefined
    for (const worker of this.workers) {
      if (tried.has(worker) || this.#states.get(worker)?.state !== 'ready') continue
      if (!best || (worker.failedAt > 0) < (best.failedAt > 0) || ((worker.failedAt > 0) === (best.failedAt > 0) && worker.inFlight < best.inFlight)) best = worker
    }
    return best
  }
}
