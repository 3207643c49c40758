import type { OutputChunk, WorkerSink } from '@cy/core'

/**
 * A test double for an engine Worker's output sink (the boundary to the main thread): it records chunks and,
 * once `leaveAfter` segments are out, acts as a client that left: it sets the shared abort flag.
 */
export function recordingWorkerSink(leaveAfter = Infinity): WorkerSink & { chunks: OutputChunk[] } {
  const chunks: OutputChunk[] = []
  const abortFlag = new Int32Array(new SharedArrayBuffer(4))
  return {
    chunks,
    signal: new AbortController().signal,
    get aborted() {
      return abortFlag[0] !== 0
    },
    abortFlag,
    push(chunk) {
      chunks.push(chunk)
      if (chunks.filter((c) => c.type === 'transcript-segment').length >= leaveAfter) Atomics.store(abortFlag, 0, 1)
      return true
    },
    ready: () => Promise.resolve(),
  }
}
