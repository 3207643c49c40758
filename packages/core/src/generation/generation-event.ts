import type { FinishReason } from '../chunks/finish-reason.ts'
import type { ApiError } from '../errors/api-error.ts'

export interface GenerationUsage {
  inputTokens: number
  outputTokens: number
  /** Prompt tokens served from a cache. */
  cachedTokens?: number
}

export interface StartedEvent { type: 'started'; responseId: string; model: string; created: number }
export interface OutputTextDeltaEvent { type: 'output-text-delta'; delta: string; index: number }
export interface OutputTextDoneEvent { type: 'output-text-done'; text: string; index: number }
/** Not in the seed: reasoning models' thinking, kept apart from the answer (chat's `reasoning_content`). */
export interface ReasoningDeltaEvent { type: 'reasoning-delta'; delta: string; index: number }
export interface ToolCallDoneEvent { type: 'tool-call-done'; id: string; name: string; arguments: string; index: number }
export interface UsageEvent extends GenerationUsage { type: 'usage' }
export interface CompletedEvent { type: 'completed'; finishReason: FinishReason; usage?: GenerationUsage }
export interface ErrorEvent { type: 'error'; error: ApiError }

/**
 * The seed's generation events: what a generation says, independent of the wire format. The gateway
 * turns a handler's output chunks into these, and one sink per format (chat JSON and SSE, Responses
 * JSON and SSE) turns them into bytes, so every API shares one path.
 */
export type GenerationEvent =
  | StartedEvent
  | OutputTextDeltaEvent
  | OutputTextDoneEvent
  | ReasoningDeltaEvent
  | ToolCallDoneEvent
  | UsageEvent
  | CompletedEvent
  | ErrorEvent

/** Turns events into a wire format: text to send for each event (maybe empty), and at the close. */
export interface ResponseSink {
  onEvent(event: GenerationEvent): string
  onClose(): string
}
