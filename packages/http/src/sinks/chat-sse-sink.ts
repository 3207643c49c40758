import type { GenerationEvent, GenerationUsage, ResponseSink } from '@cy/core'
import { chatFinishReason, chatUsage, type ResponseMeta } from '../encoders/chat-completion.ts'
import { SSE_DONE, sseData } from '../sse/sse-frame.ts'

/** Chat completions, streaming: `chat.completion.chunk` frames, then `[DONE]`. */
export class ChatSseSink implements ResponseSink {
  readonly #head: string
  readonly #tail: string
  #roleSent = false
  #usage: GenerationUsage | undefined

  constructor(
    readonly meta: ResponseMeta,
    readonly includeUsage: boolean,
  ) {
    this.#head = `{"id":${JSON.stringify(meta.id)},"object":"chat.completion.chunk","created":${meta.created},"model":${JSON.stringify(meta.model)},`
    this.#tail = includeUsage ? ',"usage":null}' : '}'
  }

  onEvent(event: GenerationEvent): string {
    switch (event.type) {
      case 'output-text-delta':
        return this.#delta(`"content":${JSON.stringify(event.delta)}`)
      case 'reasoning-delta':
        return this.#delta(`"reasoning_content":${JSON.stringify(event.delta)}`)
      case 'tool-call-done':
        return this.#delta(
          `"tool_calls":${JSON.stringify([{ index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: event.arguments } }])}`,
        )
      case 'usage':
        this.#usage = event
        return ''
      case 'completed': {
        let out = this.#finish(chatFinishReason(event.finishReason))
        if (this.includeUsage) out += sseData(`${this.#head}"choices":[],"usage":${JSON.stringify(chatUsage(event.usage ?? this.#usage))}}`)
        return out + SSE_DONE
      }
      case 'error':
        return sseData(JSON.stringify(event.error.toJSON()))
      default:
        return ''
    }
  }

  onClose(): string {
    return ''
  }

  #delta(fields: string): string {
    const role = this.#roleSent ? '' : '"role":"assistant",'
    this.#roleSent = true
    return sseData(`${this.#head}"choices":[{"index":0,"delta":{${role}${fields}},"logprobs":null,"finish_reason":null}]${this.#tail}`)
  }

  #finish(reason: string): string {
    const role = this.#roleSent ? '' : '"role":"assistant","content":""'
    this.#roleSent = true
    return sseData(`${this.#head}"choices":[{"index":0,"delta":{${role}},"logprobs":null,"finish_reason":"${reason}"}]${this.#tail}`)
  }
}
