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
