import type { Capability } from '@cy/core'
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

  constructor(
    readonly model: string,
    readonly capabilities: Capability[],
    /** How the model takes tools, as its worker registered it. */
    readonly tools: Pick<ModelOptions, 'toolCalls' | 'toolValidation' | 'supports'> = {},
  ) {}

  add(worker: RemoteWorker): void {
    if (!this.workers.includes(worker)) this.workers.push(worker)
  }

  remove(worker: RemoteWorker): void {
    const index = this.workers.indexOf(worker)
    if (index >= 0) this.workers.splice(index, 1)
  }

  get size(): number {
    return this.workers.length
  }

  /** The best worker not in `tried`, or undefined when every one was tried. */
  pick(tried: ReadonlySet<RemoteWorker>): RemoteWorker | undefined {
    let best: RemoteWorker | undefined
    for (const worker of this.workers) {
      if (tried.has(worker)) continue
      if (!best || (worker.failedAt > 0) < (best.failedAt > 0) || ((worker.failedAt > 0) === (best.failedAt > 0) && worker.inFlight < best.inFlight)) best = worker
    }
    return best
  }
}
