import type { FinishReason, GenerationUsage } from '@cy/core'
import type { ChoiceResults, GenerationResult } from '../sinks/generation-result.ts'
import { chatLogprobs } from './logprobs.ts'

export interface ResponseMeta {
  id: string
  created: number
  model: string
}

/** OpenAI has no `error`/`cancelled` finish reason: those end a choice as `stop`. */
export function chatFinishReason(reason: FinishReason | undefined): 'stop' | 'length' | 'tool_calls' | 'content_filter' {
  return reason === 'length' || reason === 'content_filter' || reason === 'tool_calls' ? reason : 'stop'
}

export function chatUsage(usage: GenerationUsage | undefined) {
  const prompt = usage?.inputTokens ?? 0
  const completion = usage?.outputTokens ?? 0
  const wire: Record<string, unknown> = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
  if (usage?.cachedTokens !== undefined) wire.prompt_tokens_details = { cached_tokens: usage.cachedTokens }
  return wire
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
  return { index, message, logprobs: result.logprobs ? chatLogprobs(result.logprobs) : null, finish_reason: chatFinishReason(result.finishReason) }
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
  if (usage) body.usage = chatUsage(usage)
  return body
}
