import { toApiError, type OutputChunk, type UsageChunk } from '@cy/core'
import { SSE_DONE, sseData } from '../sse/sse-frame.ts'
import type { StreamEncoder } from '../sse/stream-response.ts'
import { SentText, wireFinishReason, wireUsage, type TextResult } from './text-result.ts'

export interface ResponseMeta {
  id: string
  created: number
  model: string
}

/** The `chat.completion` object for a non-streaming request. */
export function chatCompletionBody(meta: ResponseMeta, result: TextResult) {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: result.text === '' && result.toolCalls.length > 0 ? null : result.text,
    refusal: null,
  }
  if (result.reasoning) message.reasoning_content = result.reasoning
  if (result.toolCalls.length > 0) {
    message.tool_calls = result.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }))
  }
  const body: Record<string, unknown> = {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [
      { index: 0, message, logprobs: null, finish_reason: wireFinishReason(result.finishReason, result.toolCalls.length > 0) },
    ],
  }
  if (result.usage) body.usage = wireUsage(result.usage)
  return body
}

/** Turns chunks into `chat.completion.chunk` SSE frames. */
export class ChatStreamEncoder implements StreamEncoder {
  readonly #head: string
  readonly #tail: string
  readonly #includeUsage: boolean
  #roleSent = false
  readonly #sent = new SentText()
  #finished = false
  #sawToolCalls = false
  #usage: UsageChunk | undefined
  readonly #streamedCalls = new Set<number>()

  constructor(
    readonly meta: ResponseMeta,
    includeUsage: boolean,
  ) {
    this.#includeUsage = includeUsage
    this.#head = `{"id":${JSON.stringify(meta.id)},"object":"chat.completion.chunk","created":${meta.created},"model":${JSON.stringify(meta.model)},`
    this.#tail = includeUsage ? ',"usage":null}' : '}'
  }

  encode(chunks: OutputChunk[]): string {
    let out = ''
    for (const chunk of chunks) {
      switch (chunk.type) {
        case 'text-delta':
        case 'final-text': {
          const text = this.#sent.next(chunk)
          if (text) out += this.#delta(`"content":${JSON.stringify(text)}`)
          break
        }
        case 'reasoning-delta':
          if (chunk.text) out += this.#delta(`"reasoning_content":${JSON.stringify(chunk.text)}`)
          break
        case 'tool-call-delta': {
          this.#sawToolCalls = true
          this.#streamedCalls.add(chunk.callIndex)
          const call: Record<string, unknown> = { index: chunk.callIndex }
          const fn: Record<string, string> = { arguments: chunk.argumentsDelta }
          if (chunk.id) Object.assign(call, { id: chunk.id, type: 'function' })
          if (chunk.name) fn.name = chunk.name
          call.function = fn
          out += this.#delta(`"tool_calls":${JSON.stringify([call])}`)
          break
        }
        case 'tool-call':
          this.#sawToolCalls = true
          if (this.#streamedCalls.has(chunk.callIndex)) break
          out += this.#delta(
            `"tool_calls":${JSON.stringify([
              { index: chunk.callIndex, id: chunk.id, type: 'function', function: { name: chunk.name, arguments: chunk.arguments } },
            ])}`,
          )
          break
        case 'usage':
          this.#usage = chunk
          break
        case 'finish':
          if (!this.#finished) out += this.#finish(wireFinishReason(chunk.reason, this.#sawToolCalls))
          break
      }
    }
    return out
  }

  finish(): string {
    let out = ''
    if (!this.#finished) out += this.#finish(wireFinishReason(undefined, this.#sawToolCalls))
    if (this.#includeUsage) out += sseData(`${this.#head}"choices":[],"usage":${JSON.stringify(wireUsage(this.#usage))}}`)
    return out + SSE_DONE
  }

  failure(error: unknown): string {
    return sseData(JSON.stringify(toApiError(error).toJSON()))
  }

  #delta(fields: string): string {
    const role = this.#roleSent ? '' : '"role":"assistant",'
    this.#roleSent = true
    return sseData(`${this.#head}"choices":[{"index":0,"delta":{${role}${fields}},"logprobs":null,"finish_reason":null}]${this.#tail}`)
  }

  #finish(reason: string): string {
    this.#finished = true
    const role = this.#roleSent ? '' : '"role":"assistant","content":""'
    this.#roleSent = true
    return sseData(`${this.#head}"choices":[{"index":0,"delta":{${role}},"logprobs":null,"finish_reason":"${reason}"}]${this.#tail}`)
  }
}
