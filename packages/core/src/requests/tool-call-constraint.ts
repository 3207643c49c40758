/**
 * What the gateway's text bridge tells a model without tool calling about the calls it may write, in a
 * bridged chat request's `tool_call_constraint` field, so an engine that can constrain its output (a
 * llama.cpp grammar) makes every call well-formed: `open`, then `{"name": …, "arguments": …}` with one
 * of the tools and arguments its schema accepts, then `close`. `force`: the answer is calls only, from
 * the first token (`tool_choice` `required` or a named function); otherwise calls are constrained once
 * `open` appears. `parallel`: more than one call may follow.
 */
export interface ToolCallConstraint {
  open: string
  close: string
  tools: Array<{ name: string; parameters?: Record<string, unknown> }>
  force: boolean
  parallel: boolean
}

/** The field of a bridged request that carries the constraint. */
export const TOOL_CALL_CONSTRAINT_FIELD = 'tool_call_constraint'
