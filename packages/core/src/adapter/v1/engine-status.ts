/**
 * What a loaded model's engine host says about itself after load: it died (a signal, an abort, out of
 * memory) and is being restarted, it is serving again, or it gave up after too many crashes. The server
 * keeps the model's state from these (`failed` with the reason, `ready` again after a restart).
 */
export type EngineStatus =
  | { state: 'ready' }
  | { state: 'restarting'; reason: string; attempt: number }
  | { state: 'failed'; reason: string }

/** Subscribes to a model's engine status; returns the unsubscribe function. */
export type EngineStatusSource = (listener: (status: EngineStatus) => void) => () => void

/**
 * One status for a model served by several engine hosts (one per context): failed when any gave up,
 * restarting while any restarts, ready when all serve. Listeners hear each change of the combined state.
 */
export function combineEngineStatus(sources: readonly EngineStatusSource[]): EngineStatusSource {
  return (listener) => {
    const latest: EngineStatus[] = sources.map(() => ({ state: 'ready' }))
    let said = JSON.stringify({ state: 'ready' })
    const combined = (): EngineStatus => latest.find((status) => status.state === 'failed') ?? latest.find((status) => status.state === 'restarting') ?? { state: 'ready' }
    const unsubscribers = sources.map((source, i) =>
      source((status) => {
        latest[i] = status
        const now = combined()
        const key = JSON.stringify(now)
        if (key === said) return
        said = key
        listener(now)
      }),
    )
    return () => unsubscribers.forEach((unsubscribe) => unsubscribe())
  }
}
