import type { FinishReason, ResultFinishReason } from '@cy/core'

/**
 * The one mapping from a handler's finish reason to the one clients see: a generation whose tool calls
 * went out ends with `tool_calls` (unless it was cut short); one whose calls were all dropped (validation,
 * `tool_choice`), and `error`, `cancelled` or no reason at all, end as `stop` (OpenAI has no other names).
 */
export function resultFinishReason(reason: FinishReason | undefined, toolCalls: number): ResultFinishReason {
  if (reason === 'length' || reason === 'content_filter') return reason
  return toolCalls > 0 ? 'tool_calls' : 'stop'
}
