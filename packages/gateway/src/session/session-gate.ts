import { CancelledError, ConflictError } from '@cy/core'

export type ConcurrencyPolicy = 'off' | 'reject' | 'cancel_previous'

export interface GateTicket {
  /** Gives the session back; only the request holding it can. */
  release(): void
}

/** The ticket of a request no gate holds back: there is nothing to give back. */
export const UNGATED: GateTicket = { release() {} }

interface Holder {
  cancel: (reason: Error) => void
}

/**
 * The seed's execution gate: one request at a time per session. A second one is refused with 409
 * (`reject`) or takes over, cancelling the first (`cancel_previous`).
 */
export class SessionGate {
  readonly #running = new Map<string, Holder>()

  get size(): number {
    return this.#running.size
  }

  isExecuting(session: string): boolean {
    return this.#running.has(session)
  }

  acquire(session: string, policy: ConcurrencyPolicy, cancel: (reason: Error) => void): GateTicket {
    if (policy === 'off') return UNGATED
    const current = this.#running.get(session)
    if (current) {
      if (policy === 'reject') {
        throw new ConflictError('Another request of this session is still running', { code: 'session_busy' })
      }
      this.#running.delete(session)
      current.cancel(new CancelledError('Cancelled by a newer request of the same session'))
    }
    const holder: Holder = { cancel }
    this.#running.set(session, holder)
    return {
      release: () => {
        if (this.#running.get(session) === holder) this.#running.delete(session)
      },
    }
  }
}
