import type { ChatRequest, ResponsesRequest, ResponseFormat, ToolChoice } from '@cy/core'
import { itemsToMessages, type ItemResource } from './response-items.ts'

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
    ...rest
  } = request
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
