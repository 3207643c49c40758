import { TOOL_CALL_CONSTRAINT_FIELD, type ChatMessage, type ChatRequest, type ToolCallConstraint } from '@cy/core'
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN, toolCallText, toolPrompt, toolResponseText } from './tool-prompt.ts'

export function messageText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((part) => (part.type === 'text' ? part.text : part.type === 'refusal' ? part.refusal : '')).join('')
}

/**
 * The request a model without tool calling sees: the tools described in the system prompt, earlier
 * calls written as `<tool_call>` text in the assistant turns, and tool results as `<tool_response>` text
 * in user turns. `tools` and `tool_choice` are taken out, so the handler sees a plain chat, plus a
 * `tool_call_constraint` that an engine able to constrain its output uses to make every call well-formed
 * (and to force calls for `required` or a named function).
 */
export function bridgeRequest(chat: ChatRequest): ChatRequest {
  // A constraint sent by the client is never passed on: only the gateway's own.
  const { tools, tool_choice: choice, parallel_tool_calls: parallel, [TOOL_CALL_CONSTRAINT_FIELD]: _client, ...rest } = chat as ChatRequest & Record<string, unknown>
  const names = new Map<string, string>()
  const messages: ChatMessage[] = []
  for (const message of chat.messages) {
    if (message.role === 'assistant' && message.tool_calls?.length) {
      const calls = message.tool_calls.map((call) => {
        names.set(call.id, call.function.name)
        return toolCallText(call.function.name, call.function.arguments)
      })
      const text = messageText(message.content)
      messages.push({ role: 'assistant', content: [text, ...calls].filter(Boolean).join('\n') })
    } else if (message.role === 'tool' || message.role === 'function') {
      const name = message.role === 'function' ? message.name : names.get(message.tool_call_id ?? '')
      const response = toolResponseText(messageText(message.content), name)
      const last = messages.at(-1)
      // Results of parallel calls go back together, in one user turn.
      if (last?.role === 'user' && typeof last.content === 'string' && last.content.startsWith('<tool_response>')) last.content += `\n${response}`
      else messages.push({ role: 'user', content: response })
    } else messages.push(message)
  }
  if (tools?.length && choice !== 'none') {
    const prompt = toolPrompt(tools, choice)
    const system = messages.findIndex((message) => message.role === 'system' || message.role === 'developer')
    if (system >= 0) messages[system] = { ...messages[system]!, content: `${messageText(messages[system]!.content)}\n\n${prompt}` }
    else messages.unshift({ role: 'system', content: prompt })
    const named = typeof choice === 'object' ? choice.function.name : undefined
    const constraint: ToolCallConstraint = {
      open: TOOL_CALL_OPEN,
      close: TOOL_CALL_CLOSE,
      tools: tools.filter((tool) => !named || tool.function.name === named).map(({ function: fn }) => ({ name: fn.name, ...(fn.parameters ? { parameters: fn.parameters } : {}) })),
      force: choice === 'required' || named !== undefined,
      parallel: parallel !== false,
    }
    return { ...rest, messages, [TOOL_CALL_CONSTRAINT_FIELD]: constraint } as ChatRequest
  }
  return { ...rest, messages } as ChatRequest
}
