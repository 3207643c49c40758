import type { FinishReason } from '../chunks/finish-reason.ts'
import type { TokenLogprob } from '../chunks/output-chunk.ts'
import type { ApiError } from '../errors/api-error.ts'

export interface GenerationUsage {
  inputTokens: number
  outputTokens: number
  /** Prompt tokens served from a cache. */
  cachedTokens?: number
}

export interface StartedEvent { type: 'started'; responseId: string; model: string; created: number }
/** `choice`: which of a request's `n` choices an event belongs to (absent: the first). */
export interface OutputTextDeltaEvent { type: 'output-text-delta'; delta: string; index: number; choice?: number }
export interface OutputTextDoneEvent { type: 'output-text-done'; text: string; index: number; choice?: number }
/** Not in the seed: reasoning models' thinking, kept apart from the answer (chat's `reasoning_content`). */
export interface ReasoningDeltaEvent { type: 'reasoning-delta'; delta: string; index: number; choice?: number }
export interface ToolCallDoneEvent { type: 'tool-call-done'; id: string; name: string; arguments: string; index: number; choice?: number }
/** Log-probabilities of generated tokens, before the text they make. */
export interface LogprobsEvent { type: 'logprobs'; content: TokenLogprob[]; choice?: number }
export interface UsageEvent extends GenerationUsage { type: 'usage' }
/** How a generation ended, in OpenAI's words: a handler's `error`, `cancelled` or silence end it as `stop`. */
export type ResultFinishReason = Exclude<FinishReason, 'error' | 'cancelled'>
/** `choices`: with `n` > 1, each choice's own reason (`finishReason` is the first's). */
export interface CompletedEvent { type: 'completed'; finishReason: ResultFinishReason; usage?: GenerationUsage; choices?: ResultFinishReason[] }
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
  | LogprobsEvent
  | UsageEvent
  | CompletedEvent
  | ErrorEvent
