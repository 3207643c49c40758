import type { ChoiceResults, GenerationResult } from '../sinks/generation-result.ts'
import { chatLogprobs } from './logprobs.ts'
import { tokenUsage } from './token-usage.ts'

export interface ResponseMeta {
  id: string
  created: number
  model: string
}

function chatChoice(result: GenerationResult, index: number) {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: result.text === '' && result.toolCalls.length > 0 ? null : result.text,
    refusal: null,
  }
  if (result.reasoning) message.reasoning_content = result.reasoning
  if (result.toolCalls.length > 0) {
    message.tool_calls = result.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }))
  }
  return { index, message, logprobs: result.logprobs ? chatLogprobs(result.logprobs) : null, finish_reason: result.finishReason }
}

/** The `chat.completion` object for a non-streaming request: a choice each (`n`), usage once. */
export function chatCompletionBody(meta: ResponseMeta, results: ChoiceResults) {
  const body: Record<string, unknown> = {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: results.choices.map(chatChoice),
  }
  const usage = results.choices[0]!.usage
  if (usage) body.usage = tokenUsage(usage)
  return body
}
