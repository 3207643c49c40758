import type { OutputChunk } from '../chunks/output-chunk-factories.ts'
import type { OutputSink } from './output-channel.ts'

/** `out` with its chunks passing through `push` first (which forwards them, later or at once); the rest as it is. */
export function interceptedSink(out: OutputSink, push: (chunk: OutputChunk) => boolean): OutputSink {
  return {
    signal: out.signal,
    get closed() {
      return out.closed
    },
    ready: () => out.ready(),
    end: () => out.end(),
    fail: (error) => out.fail(error),
    push,
  }
}
