import type { OutputChannel } from '../channel/output-channel.ts'
import type { ApiError } from '../errors/api-error.ts'

/**
 * What the dispatcher notes about one request for metrics and access logs, written into the caller's own
 * object (no allocation of ours): the model it resolved, the wait for a slot, the handler's start and first
 * output, the last usage the handler reported, and why its output closed early. Times are
 * `performance.now()` milliseconds.
 */
export interface DispatchTrace {
  /** Set once the model resolved (never a name the client made up). */
  model?: string
  /** Milliseconds waited for a slot (0 when one was free). */
  queuedMs?: number
  /** When the handler started; unset while the request waits. */
  startedAt?: number
  firstOutputAt?: number
  promptTokens?: number
  completionTokens?: number
  /** The request's output: closes when the handler ends or fails, a timeout passes or the client leaves. */
  channel?: OutputChannel
  /** Why the output closed early: the handler's failure, a timeout, or the client leaving (`CancelledError`). */
  error?: ApiError
}
