import { BadRequestError, OutputChunk, type CompletionRequest, type OutputSink, type UsageChunk } from '@cy/core'

/** A completion's prompts, as OpenAI takes them: a string, strings, token ids, or lists of token ids. */
export function completionPrompts(prompt: CompletionRequest['prompt']): Array<string | number[]> {
  if (typeof prompt === 'string') return [prompt]
  if (!Array.isArray(prompt) || prompt.length === 0) throw new BadRequestError('`prompt` is empty', { param: 'prompt' })
  if (typeof prompt[0] === 'number') return [prompt as number[]]
  return prompt as Array<string | number[]>
}

/** Chunks that belong to a choice. */
const PER_CHOICE = new Set<OutputChunk['type']>(['text-delta', 'final-text', 'reasoning-delta', 'logprobs', 'finish'])

/** The usage of several prompts, reported once as their sum (as OpenAI does). */
export class UsageTotal {
  promptTokens = 0
  completionTokens = 0
  cachedTokens: number | undefined

  add(usage: UsageChunk): void {
    this.promptTokens += usage.promptTokens
    this.completionTokens += usage.completionTokens
    if (usage.cachedTokens !== undefined) this.cachedTokens = (this.cachedTokens ?? 0) + usage.cachedTokens
  }

  chunk(): UsageChunk {
    return OutputChunk.usage(this.promptTokens, this.completionTokens, this.cachedTokens)
  }
}

/**
 * The output of one prompt of several: its choices become `first + index` (prompt i of a request with
 * `n` choices each starts at i × n), its usage goes to the shared total, and its end is the caller's.
 */
export class PromptSink implements OutputSink {
  constructor(
    readonly out: OutputSink,
    readonly first: number,
    readonly usage: UsageTotal,
    readonly signal: AbortSignal,
  ) {}

  get closed(): boolean {
    return this.out.closed
  }

  push(chunk: OutputChunk): boolean {
    if (chunk.type === 'usage') {
      this.usage.add(chunk)
      return true
    }
    if (!PER_CHOICE.has(chunk.type)) return this.out.push(chunk)
    return this.out.push({ ...chunk, index: this.first + ((chunk as { index?: number }).index ?? 0) } as OutputChunk)
  }

  ready(): Promise<void> {
    return this.out.ready()
  }

  end(): void {}

  fail(error: unknown): void {
    this.out.fail(error)
  }
}
