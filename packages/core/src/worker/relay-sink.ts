import type { OutputSink } from '../channel/output-channel.ts'
import type { WorkerSink } from './serve-worker.ts'

/**
 * A Worker-side sink seen as an `OutputSink`, for an engine process whose main thread only relays to
 * Workers of its own (`WorkerHost` there writes to it): chunks and back-pressure pass through, and the
 * parent's cancel fires `signal` here, which sets the flag the Worker's native code polls. The call's
 * end or failure goes back as the relaying method's result, so `end` and `fail` do nothing.
 */
export function relaySink(out: WorkerSink): OutputSink {
  return {
    signal: out.signal,
    push: (chunk) => out.push(chunk),
    ready: () => out.ready(),
    end: () => {},
    fail: () => {},
    get closed() {
      return out.aborted
    },
  }
}
