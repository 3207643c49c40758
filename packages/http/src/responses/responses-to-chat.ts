import { UnsupportedParameterError, type ChatRequest, type ResponsesRequest, type ResponseFormat, type ToolChoice } from '@cy/core'
import { itemsToMessages, type ItemResource } from './response-items.ts'

const given = (value: unknown) => value !== undefined && value !== null
const nonEmpty = (value: unknown) => given(value) && !(Array.isArray(value) && value.length === 0) && !(typeof value === 'object' && Object.keys(value as object).length === 0)

/**
 * Responses API fields this server has nothing behind, each with the values that ask for nothing (accepted):
 * any other value is a 400 `unsupported_parameter`, never silently ignored. Hints with no effect on the
 * answer (`user`, `safety_identifier`, `prompt_cache_key`; prefixes are cached anyway) are accepted.
 */
const UNSUPPORTED: Record<string, (value: unknown) => boolean> = {
  background: (value) => value === true,
  conversation: given,
  include: nonEmpty,
  max_tool_calls: given,
  prompt: given,
  reasoning: nonEmpty,
  service_tier: (value) => given(value) && value !== 'auto' && value !== 'default',
  top_logprobs: given,
  truncation: (value) => given(value) && value !== 'disabled',
}

/** Refuses the Responses fields that ask for something no model here does (see UNSUPPORTED). */
export function checkResponsesFields(request: ResponsesRequest): void {
  const fields = request as unknown as Record<string, unknown>
  for (const [name, isSet] of Object.entries(UNSUPPORTED)) {
    if (isSet(fields[name])) throw new UnsupportedParameterError(request.model, name)
  }
}

function toolChoice(choice: ResponsesRequest['tool_choice']): ToolChoice | undefined {
  if (choice === undefined || typeof choice === 'string') return choice
  return { type: 'function', function: { name: choice.name } }
}

function responseFormat(format: NonNullable<ResponsesRequest['text']>['format']): ResponseFormat | undefined {
  if (!format || format.type !== 'json_schema') return format
  return { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, ...(format.strict != null ? { strict: format.strict } : {}) } }
}

/**
 * A Responses request as the chat request the model runs: `instructions` as the system message, the
 * conversation's items as messages, function tools in chat's shape. Fields of its own that it does not
 * know (extensions like `tool_validation` or llama.cpp's `grammar`) pass through to the handler.
 */
export function responsesToChat(request: ResponsesRequest, conversation: ItemResource[]): ChatRequest {
  checkResponsesFields(request)
  const {
    input: _input,
    instructions,
    tools,
    tool_choice: choice,
    max_output_tokens: maxOutputTokens,
    text,
    store: _store,
    previous_response_id: _previous,
    metadata: _metadata,
    stream: _stream,
    parallel_tool_calls: parallel,
    temperature,
    top_p: topP,
    // Accepted above only with the values that ask for nothing: none reaches the model.
    background: _background,
    service_tier: _tier,
    truncation: _truncation,
    include: _include,
    reasoning: _reasoning,
    ...rest
  } = request as ResponsesRequest & Record<string, unknown>
  const chat: ChatRequest = {
    ...rest,
    messages: [...(instructions ? [{ role: 'system' as const, content: instructions }] : []), ...itemsToMessages(conversation)],
  }
  if (temperature != null) chat.temperature = temperature
  if (topP != null) chat.top_p = topP
  if (maxOutputTokens != null) chat.max_tokens = maxOutputTokens
  if (parallel != null) chat.parallel_tool_calls = parallel
  if (tools?.length) {
    chat.tools = tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, ...(tool.description ? { description: tool.description } : {}), ...(tool.parameters ? { parameters: tool.parameters } : {}) },
    }))
  }
  const chosen = toolChoice(choice)
  if (chosen) chat.tool_choice = chosen
  const format = responseFormat(text?.format)
  if (format) chat.response_format = format
  return chat
}
