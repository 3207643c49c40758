import { BadRequestError, type ChatRequest } from '@cy/core'
import { ToolCallValidator } from './tool-call-validator.ts'

/** What a request's tool schemas may cost (they are compiled on the main thread). */
export const TOOL_SCHEMA_LIMITS = {
  /** One tool's `parameters`, as JSON text. */
  toolBytes: 64 * 1024,
  /** All of a request's tools' `parameters`. */
  totalBytes: 256 * 1024,
  /** Objects and arrays inside one another. */
  depth: 128,
  /** A `pattern` (or a `patternProperties` key). */
  patternLength: 1000,
}

/** Walks a schema without recursion: too deep, or a pattern too long, is a 400 naming `param`. */
function checkShape(schema: unknown, param: string): void {
  const stack: Array<[unknown, number]> = [[schema, 0]]
  while (stack.length) {
    const [node, depth] = stack.pop()!
    if (typeof node !== 'object' || node === null) continue
    if (depth > TOOL_SCHEMA_LIMITS.depth) throw new BadRequestError(`The schema is nested deeper than ${TOOL_SCHEMA_LIMITS.depth}`, { param })
    const record = node as Record<string, unknown>
    const patterns = [typeof record.pattern === 'string' ? record.pattern : '', ...Object.keys((record.patternProperties as object | undefined) ?? {})]
    for (const pattern of patterns) {
      if (pattern.length > TOOL_SCHEMA_LIMITS.patternLength) throw new BadRequestError(`A pattern in the schema is longer than ${TOOL_SCHEMA_LIMITS.patternLength} characters`, { param })
    }
    for (const child of Object.values(record)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
  }
}

/**
 * Refuses, with a 400, tools the request cannot have: parameters that are not a JSON Schema (a type
 * that does not exist, a `$ref` to nowhere) or past the size caps, a `tool_choice` naming a tool that
 * is not in `tools`, and `required` without tools.
 */
export function checkToolRequest(chat: ChatRequest): void {
  const tools = chat.tools ?? []
  let total = 0
  tools.forEach((tool, index) => {
    const param = `tools[${index}].function.parameters`
    const schema = tool.function.parameters
    if (schema === undefined) return
    const text = JSON.stringify(schema)
    total += text.length
    if (text.length > TOOL_SCHEMA_LIMITS.toolBytes) throw new BadRequestError(`The parameters of '${tool.function.name}' are ${text.length} bytes of JSON Schema; at most ${TOOL_SCHEMA_LIMITS.toolBytes} are accepted`, { param })
    if (total > TOOL_SCHEMA_LIMITS.totalBytes) throw new BadRequestError(`The tools' parameters are more than ${TOOL_SCHEMA_LIMITS.totalBytes} bytes of JSON Schema`, { param })
    checkShape(schema, param)
    const compiled = ToolCallValidator.compile(schema, text)
    if (typeof compiled === 'string') throw new BadRequestError(`The parameters of '${tool.function.name}' are not a valid JSON Schema: ${compiled}`, { param })
  })
  const choice = chat.tool_choice
  if (choice === 'required' && tools.length === 0) throw new BadRequestError("tool_choice 'required' needs tools", { param: 'tool_choice' })
  if (typeof choice === 'object' && !tools.some((tool) => tool.function.name === choice.function.name)) {
    throw new BadRequestError(`tool_choice names '${choice.function.name}', which is not in tools`, { param: 'tool_choice' })
  }
}
