/**
 * How a model takes `tools`: `native` hands them to the handler, which emits tool-call chunks; `bridge`
 * describes them in the prompt and the gateway parses the model's XML tool calls from its text.
 */
export type ToolCallMode = 'native' | 'bridge'

/** How tool calls are checked against the tools' schemas. */
export type ToolValidationMode = 'none' | 'relaxed' | 'strict'
