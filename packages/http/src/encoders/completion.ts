import type { ChoiceResults } from '../sinks/generation-result.ts'
import type { ResponseMeta } from './chat-completion.ts'
import { completionLogprobs } from './logprobs.ts'
import { tokenUsage } from './token-usage.ts'

/**
 * The legacy `text_completion` object: a choice per result (the completion pipeline drops tool calls, so
 * a finish reason is never `tool_calls`); `echo(index)` is the prompt text a choice repeats.
 */
export function completionBody(meta: ResponseMeta, results: ChoiceResults, echo: (index: number) => string) {
  const body: Record<string, unknown> = {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    choices: results.choices.map((result, index) => {
      const prefix = echo(index)
      const logprobs = result.logprobs ? completionLogprobs(result.logprobs, prefix.length) : null
      return { index, text: prefix + result.text, logprobs, finish_reason: result.finishReason }
    }),
  }
  const usage = results.choices[0]!.usage
  if (usage) body.usage = tokenUsage(usage)
  return body
}
