import { forEachChunk, then, type MaybePromise } from '../next-batch.ts'
import type { FinishReason, OutputChannel, OutputChunk, UsageChunk } from '@cy/core'

/** Everything a text-generating handler said, gathered for a non-streaming response. */
export interface TextResult {
  text: string
  reasoning: string
  usage: UsageChunk | undefined
  finishReason: FinishReason | undefined
}

/** Folds chunks into a text result, for legacy completions (chat goes through the gateway's events). */
export class TextAccumulator {
  text = ''
  reasoning = ''
  usage: UsageChunk | undefined
  finishReason: FinishReason | undefined

  add(chunk: OutputChunk): void {
    switch (chunk.type) {
      case 'text-delta':
        this.text += chunk.text
        break
      case 'final-text':
        this.text = chunk.text
        break
      case 'reasoning-delta':
        this.reasoning += chunk.text
        break
      case 'usage':
        this.usage = chunk
        break
      case 'finish':
        this.finishReason = chunk.reason
        break
    }
  }

  result(): TextResult {
    return { text: this.text, reasoning: this.reasoning, usage: this.usage, finishReason: this.finishReason }
  }
}

/** Gathers a text handler's output; synchronous when it is all there already. */
export function collectText(channel: OutputChannel, first: OutputChunk[] | null): MaybePromise<TextResult> {
  const accumulator = new TextAccumulator()
  return then(
    forEachChunk(channel, first, (chunk) => accumulator.add(chunk)),
    () => accumulator.result(),
  )
}

export function wireUsage(usage: UsageChunk | undefined) {
  const prompt = usage?.promptTokens ?? 0
  const completion = usage?.completionTokens ?? 0
  const wire: Record<string, unknown> = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: usage?.totalTokens ?? prompt + completion }
  if (usage?.cachedTokens !== undefined) wire.prompt_tokens_details = { cached_tokens: usage.cachedTokens }
  return wire
}

