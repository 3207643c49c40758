import type { GenerationUsage } from '@cy/core'

/** `usage` of chat and legacy completions (JSON and the streams' usage frame): the one mapping of it. */
export function tokenUsage(usage: GenerationUsage | undefined) {
  const prompt = usage?.inputTokens ?? 0
  const completion = usage?.outputTokens ?? 0
  const wire: Record<string, unknown> = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
  if (usage?.cachedTokens !== undefined) wire.prompt_tokens_details = { cached_tokens: usage.cachedTokens }
  return wire
}
