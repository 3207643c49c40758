import { forEachChunk, then, type MaybePromise } from '../next-batch.ts'
import type { FinishReason, OutputChannel, OutputChunk, UsageChunk } from '@cy/core'

export interface CollectedToolCall {
  id: string
  name: string
  arguments: string
}

/** Everything a text-generating handler said, gathered for a non-streaming response. */
export interface TextResult {
  text: string
  reasoning: string
  toolCalls: CollectedToolCall[]
  usage: UsageChunk | undefined
  finishReason: FinishReason | undefined
}

/** Folds chunks into a text result, for legacy completions (chat goes through the gateway's events). */
export class TextAccumulator {
  text = ''
  reasoning = ''
  usage: UsageChunk | undefined
  finishReason: FinishReason | undefined
  readonly #calls = new Map<number, CollectedToolCall>()

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
      case 'tool-call-delta': {
        const call = this.#calls.get(chunk.callIndex) ?? { id: '', name: '', arguments: '' }
        if (chunk.id) call.id = chunk.id
        if (chunk.name) call.name += chunk.name
        call.arguments += chunk.argumentsDelta
        this.#calls.set(chunk.callIndex, call)
        break
      }
      case 'tool-call':
        this.#calls.set(chunk.callIndex, { id: chunk.id, name: chunk.name, arguments: chunk.arguments })
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
    const toolCalls = [...this.#calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call)
    return { text: this.text, reasoning: this.reasoning, toolCalls, usage: this.usage, finishReason: this.finishReason }
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

/** OpenAI has no `error`/`cancelled` finish reason: those end a choice as `stop`. */
export function wireFinishReason(reason: FinishReason | undefined, hasToolCalls: boolean): 'stop' | 'length' | 'tool_calls' | 'content_filter' {
  if (reason === 'length' || reason === 'content_filter' || reason === 'tool_calls') return reason
  if (reason === undefined && hasToolCalls) return 'tool_calls'
  return 'stop'
}

export function wireUsage(usage: UsageChunk | undefined) {
  const prompt = usage?.promptTokens ?? 0
  const completion = usage?.completionTokens ?? 0
  const wire: Record<string, unknown> = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: usage?.totalTokens ?? prompt + completion }
  if (usage?.cachedTokens !== undefined) wire.prompt_tokens_details = { cached_tokens: usage.cachedTokens }
  return wire
}

