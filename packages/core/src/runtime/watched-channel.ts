import { OutputChannel } from '../channel/output-channel.ts'
import type { OutputChunk } from '../chunks/output-chunk-factories.ts'
import { toApiError } from '../errors/to-api-error.ts'
import type { DispatchTrace } from './dispatch-trace.ts'

/**
 * The dispatcher's channel: counts the handler's output, for the first-output and idle timeouts. A counter
 * (not a clock read) per chunk keeps the hot path cheap; the timers compare counts. With a trace it also
 * notes the first output's time, the usage reported and why it closed early.
 */
export class WatchedChannel extends OutputChannel {
  outputs = 0
  /** Called on the first chunk, to switch from the first-output timeout to the idle one. */
  onFirstOutput: (() => void) | undefined
  trace: DispatchTrace | undefined

  override push(chunk: OutputChunk): boolean {
    const trace = this.trace
    if (this.outputs++ === 0) {
      if (trace) trace.firstOutputAt = performance.now()
      this.onFirstOutput?.()
    }
    if (trace && chunk.type === 'usage') {
      trace.promptTokens = chunk.promptTokens
      trace.completionTokens = chunk.completionTokens
    }
    return super.push(chunk)
  }

  override fail(error: unknown): void {
    if (this.trace && !this.closed) this.trace.error = toApiError(error, 'provider')
    super.fail(error)
  }

  override abort(reason: unknown): void {
    if (this.trace && !this.closed) this.trace.error = toApiError(reason)
    super.abort(reason)
  }
}
