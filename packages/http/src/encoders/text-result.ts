import { forEachChunk, then, type MaybePromise } from '../next-batch.ts'
import type { FinishReason, OutputChannel, OutputChunk, TokenLogprob, UsageChunk } from '@cy/core'

/** Everything a text-generating handler said, gathered for a non-streaming response. */
export interface TextResult {
  text: string
  reasoning: string
  usage: UsageChunk | undefined
  finishReason: FinishReason | undefined
  logprobs: TokenLogprob[] | undefined
}

/** Folds one choice's chunks into a text result, for legacy completions (chat goes through the gateway's events). */
export class TextAccumulator {
  text = ''
  reasoning = ''
  usage: UsageChunk | undefined
  finishReason: FinishReason | undefined
  logprobs: TokenLogprob[] | undefined

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
      case 'logprobs':
        ;(this.logprobs ??= []).push(...chunk.content)
        break
    }
  }

  result(): TextResult {
    return { text: this.text, reasoning: this.reasoning, usage: this.usage, finishReason: this.finishReason, logprobs: this.logprobs }
  }
}

/** The choice a chunk belongs to (`index`: `n` > 1, or one choice per prompt); request-wide chunks belong to the first. */
export function chunkChoice(chunk: OutputChunk): number {
  switch (chunk.type) {
    case 'text-delta':
    case 'final-text':
    case 'reasoning-delta':
    case 'finish':
    case 'logprobs':
      return chunk.index ?? 0
    default:
      return 0
  }
}

/** Gathers a text handler's output, a result per choice (usage on the first); synchronous when it is all there already. */
export function collectText(channel: OutputChannel, first: OutputChunk[] | null): MaybePromise<TextResult[]> {
  const choices = [new TextAccumulator()]
  return then(
    forEachChunk(channel, first, (chunk) => {
      const choice = chunkChoice(chunk)
      while (choices.length <= choice) choices.push(new TextAccumulator())
      choices[choice]!.add(chunk)
    }),
    () => choices.map((choice) => choice.result()),
  )
}

export function wireUsage(usage: UsageChunk | undefined) {
  const prompt = usage?.promptTokens ?? 0
  const completion = usage?.completionTokens ?? 0
  const wire: Record<string, unknown> = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: usage?.totalTokens ?? prompt + completion }
  if (usage?.cachedTokens !== undefined) wire.prompt_tokens_details = { cached_tokens: usage.cachedTokens }
  return wire
}

