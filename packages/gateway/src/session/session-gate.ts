import { CancelledError, ConflictError } from '@cy/core'

export type ConcurrencyPolicy = 'off' | 'reject' | 'cancel_previous'

export interface GateTicket {
  /** Gives the session back; only the request holding it can. */
  release(): void
  /**
   * Fires when a newer request of the session takes over (`cancel_previous`), with a CancelledError as
   * its reason: hand it to the dispatcher, so it reaches the request whether it runs or still waits for a slot.
   */
  readonly signal?: AbortSignal
}

/** The ticket of a request no gate holds back: there is nothing to give back. */
export const UNGATED: GateTicket = { release() {} }

/**
 * The seed's execution gate: one request at a time per session. A second one is refused with 409
 * (`reject`) or takes over, cancelling the first (`cancel_previous`).
 */
export class SessionGate {
  readonly #running = new Map<string, AbortController>()

  get size(): number {
    return this.#running.size
  }

  isExecuting(session: string): boolean {
    return this.#running.has(session)
  }

  acquire(session: string, policy: ConcurrencyPolicy): GateTicket {
    if (policy === 'off') return UNGATED
    const current = this.#running.get(session)
    if (current) {
      if (policy === 'reject') {
        throw new ConflictError('Another request of this session is still running', { code: 'session_busy' })
      }
      this.#running.delete(session)
      current.abort(new CancelledError('Cancelled by a newer request of the same session'))
    }
    const holder = new AbortController()
    this.#running.set(session, holder)
    return {
      signal: holder.signal,
      release: () => {
        if (this.#running.get(session) === holder) this.#running.delete(session)
      },
    }
  }
}
