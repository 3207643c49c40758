import { toApiError, type FinishReason, type OutputChunk, type UsageChunk } from '@cy/core'
import { SSE_DONE, sseData } from '../sse/sse-frame.ts'
import type { StreamEncoder } from '../sse/stream-response.ts'
import { chatFinishReason, type ResponseMeta } from './chat-completion.ts'
import { SentText } from '@cy/gateway'
import { wireUsage, type TextResult } from './text-result.ts'

const completionFinish = (reason: FinishReason | undefined) => {
  const wire = chatFinishReason(reason)
  return wire === 'tool_calls' ? 'stop' : wire
}

/** The legacy `text_completion` object. */
export function completionBody(meta: ResponseMeta, result: TextResult, echoPrefix = '') {
  const body: Record<string, unknown> = {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    choices: [
      { index: 0, text: echoPrefix + result.text, logprobs: null, finish_reason: completionFinish(result.finishReason) },
    ],
  }
  if (result.usage) body.usage = wireUsage(result.usage)
  return body
}

/** Legacy completions stream the same object shape as the final one, a piece of text at a time. */
export class CompletionStreamEncoder implements StreamEncoder {
  readonly #head: string
  readonly #sent = new SentText()
  #finished = false
  #usage: UsageChunk | undefined

  constructor(
    meta: ResponseMeta,
    readonly includeUsage: boolean,
  ) {
    this.#head = `{"id":${JSON.stringify(meta.id)},"object":"text_completion","created":${meta.created},"model":${JSON.stringify(meta.model)},`
  }

  encode(chunks: OutputChunk[]): string {
    let out = ''
    for (const chunk of chunks) {
      if (chunk.type === 'text-delta' || chunk.type === 'final-text') {
        const text = this.#sent.next(chunk)
        if (text) out += this.#frame(text, null)
      } else if (chunk.type === 'usage') {
        this.#usage = chunk
      } else if (chunk.type === 'finish' && !this.#finished) {
        this.#finished = true
        out += this.#frame('', completionFinish(chunk.reason))
      }
    }
    return out
  }

  finish(): string {
    let out = this.#finished ? '' : this.#frame('', 'stop')
    if (this.includeUsage) out += sseData(`${this.#head}"choices":[],"usage":${JSON.stringify(wireUsage(this.#usage))}}`)
    return out + SSE_DONE
  }

  failure(error: unknown): string {
    return sseData(JSON.stringify(toApiError(error).toJSON()))
  }

  #frame(text: string, finishReason: string | null): string {
    const reason = finishReason === null ? 'null' : `"${finishReason}"`
    return sseData(`${this.#head}"choices":[{"index":0,"text":${JSON.stringify(text)},"logprobs":null,"finish_reason":${reason}}]}`)
  }
}
