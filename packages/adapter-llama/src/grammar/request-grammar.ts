import { BadRequestError, TOOL_CALL_CONSTRAINT_FIELD, type ChatRequest, type ToolCallConstraint } from '@cy/core'
import { JSON_OBJECT_GRAMMAR, jsonSchemaToGrammar, SCHEMA_LIMITS } from './json-schema-grammar.ts'
import { toolCallGrammar, type SamplerGrammar } from './tool-call-grammar.ts'

function constraintOf(request: object): ToolCallConstraint | undefined {
  const value = (request as Record<string, unknown>)[TOOL_CALL_CONSTRAINT_FIELD]
  if (value === undefined || value === null) return undefined
  const c = value as Partial<ToolCallConstraint>
  const valid =
    typeof c.open === 'string' && typeof c.close === 'string' && typeof c.force === 'boolean' && typeof c.parallel === 'boolean' && Array.isArray(c.tools) &&
    c.tools.length > 0 && c.tools.every((tool) => typeof tool?.name === 'string' && (tool.parameters === undefined || (typeof tool.parameters === 'object' && tool.parameters !== null)))
  if (!valid) throw new BadRequestError(`${TOOL_CALL_CONSTRAINT_FIELD} is not a tool call constraint`, { param: TOOL_CALL_CONSTRAINT_FIELD })
  return c as ToolCallConstraint
}

/**
 * The grammar a request asks for: llama.cpp server's `grammar` extension (GBNF text) as given, else the
 * bridge's forced tool calls, else what `response_format` implies (any JSON object, or JSON that a given
 * schema accepts), else the bridge's lazy tool-call grammar. Built on the calling thread: every schema
 * node makes one rule and the sizes are capped (SCHEMA_LIMITS), so it takes milliseconds at most.
 */
export function requestGrammar(request: { response_format?: ChatRequest['response_format']; grammar?: unknown }): SamplerGrammar | undefined {
  if (typeof request.grammar === 'string' && request.grammar.trim()) {
    // A client's own GBNF is held to the size of the grammars built here.
    const bytes = Buffer.byteLength(request.grammar)
    if (bytes > SCHEMA_LIMITS.grammarBytes) throw new BadRequestError(`\`grammar\` has ${bytes} bytes; at most ${SCHEMA_LIMITS.grammarBytes} are accepted`, { param: 'grammar' })
    return { grammar: request.grammar }
  }
  const tools = constraintOf(request)
  if (tools?.force) return toolCallGrammar(tools)
  const format = request.response_format
  if (format && format.type !== 'text') {
    if (format.type === 'json_object' || !format.json_schema.schema) return { grammar: JSON_OBJECT_GRAMMAR }
    return { grammar: jsonSchemaToGrammar(format.json_schema.schema) }
  }
  return tools ? toolCallGrammar(tools) : undefined
}
