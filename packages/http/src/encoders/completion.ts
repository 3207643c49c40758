import { toApiError, type FinishReason, type OutputChunk, type TokenLogprob, type UsageChunk } from '@cy/core'
import { SSE_DONE, sseData } from '../sse/sse-frame.ts'
import type { StreamEncoder } from '../sse/stream-response.ts'
import { chatFinishReason, type ResponseMeta } from './chat-completion.ts'
import { SentText } from '@cy/gateway'
import { completionLogprobs } from './logprobs.ts'
import { chunkChoice, wireUsage, type TextResult } from './text-result.ts'

const completionFinish = (reason: FinishReason | undefined) => {
  const wire = chatFinishReason(reason)
  return wire === 'tool_calls' ? 'stop' : wire
}

/** The legacy `text_completion` object: a choice per result; `echo(index)` is the prompt text a choice repeats. */
export function completionBody(meta: ResponseMeta, results: TextResult[], echo: (index: number) => string = () => '') {
  const body: Record<string, unknown> = {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    choices: results.map((result, index) => {
      const prefix = echo(index)
      const logprobs = result.logprobs ? completionLogprobs(result.logprobs, prefix.length) : null
      return { index, text: prefix + result.text, logprobs, finish_reason: completionFinish(result.finishReason) }
    }),
  }
  const usage = results[0]?.usage
  if (usage) body.usage = wireUsage(usage)
  return body
}

/** What one choice of a stream has sent. */
interface StreamedChoice {
  sent: SentText
  finished: boolean
  /** Logprobs of tokens whose text has not gone out yet. */
  logprobs: TokenLogprob[] | undefined
  /** Where the next token starts in the choice's text. */
  offset: number
}

/** Legacy completions stream the same object shape as the final one, a piece of text at a time. */
export class CompletionStreamEncoder implements StreamEncoder {
  readonly #head: string
  readonly #choices: StreamedChoice[] = []
  #usage: UsageChunk | undefined

  constructor(
    meta: ResponseMeta,
    readonly includeUsage: boolean,
    /** Choices the request makes (`n` × prompts): each ends with a frame even if its handler never said so. */
    readonly choices = 1,
  ) {
    this.#head = `{"id":${JSON.stringify(meta.id)},"object":"text_completion","created":${meta.created},"model":${JSON.stringify(meta.model)},`
  }

  #choice(index: number): StreamedChoice {
    while (this.#choices.length <= index) this.#choices.push({ sent: new SentText(), finished: false, logprobs: undefined, offset: 0 })
    return this.#choices[index]!
  }

  encode(chunks: OutputChunk[]): string {
    let out = ''
    for (const chunk of chunks) {
      const index = chunkChoice(chunk)
      if (chunk.type === 'text-delta' || chunk.type === 'final-text') {
        const text = this.#choice(index).sent.next(chunk)
        if (text) out += this.#frame(index, text, null)
      } else if (chunk.type === 'logprobs') {
        ;(this.#choice(index).logprobs ??= []).push(...chunk.content)
      } else if (chunk.type === 'usage') {
        this.#usage = chunk
      } else if (chunk.type === 'finish' && !this.#choice(index).finished) {
        this.#choice(index).finished = true
        out += this.#frame(index, '', completionFinish(chunk.reason))
      }
    }
    return out
  }

  finish(): string {
    let out = ''
    for (let index = 0; index < Math.max(this.choices, this.#choices.length); index++) if (!this.#choice(index).finished) out += this.#frame(index, '', 'stop')
    if (this.includeUsage) out += sseData(`${this.#head}"choices":[],"usage":${JSON.stringify(wireUsage(this.#usage))}}`)
    return out + SSE_DONE
  }

  failure(error: unknown): string {
    return sseData(JSON.stringify(toApiError(error).toJSON()))
  }

  #frame(index: number, text: string, finishReason: string | null): string {
    const reason = finishReason === null ? 'null' : `"${finishReason}"`
    const choice = this.#choice(index)
    let logprobs = 'null'
    if (choice.logprobs) {
      const wire = completionLogprobs(choice.logprobs, choice.offset)
      choice.offset = wire.text_offset.length > 0 ? wire.text_offset.at(-1)! + wire.tokens.at(-1)!.length : choice.offset
      choice.logprobs = undefined
      logprobs = JSON.stringify(wire)
    }
    return sseData(`${this.#head}"choices":[{"index":${index},"text":${JSON.stringify(text)},"logprobs":${logprobs},"finish_reason":${reason}}]}`)
  }
}
