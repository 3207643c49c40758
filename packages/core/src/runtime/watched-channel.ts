import { OutputChannel } from '../channel/output-channel.ts'
import type { OutputChunk } from '../chunks/output-chunk-factories.ts'

/**
 * The dispatcher's channel: counts the handler's output, for the first-output and idle timeouts. A counter
 * (not a clock read) per chunk keeps the hot path cheap; the timers compare counts.
 */
export class WatchedChannel extends OutputChannel {
  outputs = 0
  /** Called on the first chunk, to switch from the first-output timeout to the idle one. */
  onFirstOutput: (() => void) | undefined

  override push(chunk: OutputChunk): boolean {
    if (this.outputs++ === 0) this.onFirstOutput?.()
    return super.push(chunk)
  }
}
