import type { FunctionTool, ToolChoice } from '@cy/core'

/** The bridge's call tags. */
export const TOOL_CALL_OPEN = '<tool_call>'
export const TOOL_CALL_CLOSE = '</tool_call>'

/**
 * The text bridge's instructions: the tools as JSON Schema inside `<tools>`, and the call format, a
 * `<tool_call>` element holding `{"name", "arguments"}` (the format Qwen, Hermes and many open models
 * were trained on). docs/gateway.md documents it.
 */
export function toolPrompt(tools: FunctionTool[], choice: ToolChoice | undefined): string {
  const definitions = tools.map(({ function: fn }) => JSON.stringify({ name: fn.name, description: fn.description ?? '', parameters: fn.parameters ?? { type: 'object', properties: {} } }))
  const lines = [
    '# Tools',
    '',
    'You may call one or more functions to help with the request. The functions are described with JSON Schema inside <tools></tools>:',
    '<tools>',
    ...definitions,
    '</tools>',
    '',
    'To call a function, write a <tool_call> element holding a JSON object with the function name and its arguments:',
    '<tool_call>',
    '{"name": "<function-name>", "arguments": {<arguments as JSON>}}',
    '</tool_call>',
    'Write one <tool_call> element per call; several calls may follow each other. Function results come back inside <tool_response></tool_response>.',
  ]
  if (choice === 'required') lines.push('You must call at least one function now.')
  else if (typeof choice === 'object') lines.push(`You must call the function "${choice.function.name}" now.`)
  return lines.join('\n')
}

/** A call written the bridge's way, for assistant turns in the history. */
export function toolCallText(name: string, args: string): string {
  let parsed: unknown = args
  try {
    parsed = JSON.parse(args)
  } catch {
    // Arguments that are not JSON go over as the string they are.
  }
  return `${TOOL_CALL_OPEN}\n${JSON.stringify({ name, arguments: parsed })}\n${TOOL_CALL_CLOSE}`
}

/** A function's result, for tool turns in the history. */
export function toolResponseText(output: string, name?: string): string {
  return `<tool_response>\n${name ? `${JSON.stringify({ name, content: output })}` : output}\n</tool_response>`
}
