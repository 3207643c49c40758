import type { GenerationEvent, GenerationUsage, ResponseSink, TokenLogprob } from '@cy/core'
import { chatFinishReason, chatUsage, type ResponseMeta } from '../encoders/chat-completion.ts'
import { chatLogprobs } from '../encoders/logprobs.ts'
import { SSE_DONE, sseData } from '../sse/sse-frame.ts'

/**
 * Chat completions, streaming: `chat.completion.chunk` frames, then `[DONE]`. Each frame is one
 * choice's (`index`, with `n` > 1); a token's logprobs ride on the next frame of its choice.
 */
export class ChatSseSink implements ResponseSink {
  readonly #head: string
  readonly #tail: string
  /** Per choice: whether its first frame (with the role) went out. */
  readonly #roleSent: boolean[] = []
  /** Per choice: logprobs of tokens whose text has not gone out yet. */
  readonly #logprobs: Array<TokenLogprob[] | undefined> = []
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
        return this.#delta(event.choice ?? 0, `"content":${JSON.stringify(event.delta)}`)
      case 'reasoning-delta':
        return this.#delta(event.choice ?? 0, `"reasoning_content":${JSON.stringify(event.delta)}`)
      case 'tool-call-done':
        return this.#delta(
          event.choice ?? 0,
          `"tool_calls":${JSON.stringify([{ index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: event.arguments } }])}`,
        )
      case 'logprobs':
        ;(this.#logprobs[event.choice ?? 0] ??= []).push(...event.content)
        return ''
      case 'usage':
        this.#usage = event
        return ''
      case 'completed': {
        let out = ''
        const reasons = event.choices ?? [event.finishReason]
        reasons.forEach((reason, choice) => (out += this.#finish(choice, chatFinishReason(reason))))
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

  #delta(choice: number, fields: string): string {
    const role = this.#roleSent[choice] ? '' : '"role":"assistant",'
    this.#roleSent[choice] = true
    return sseData(`${this.#head}"choices":[{"index":${choice},"delta":{${role}${fields}},"logprobs":${this.#takeLogprobs(choice)},"finish_reason":null}]${this.#tail}`)
  }

  #finish(choice: number, reason: string): string {
    const role = this.#roleSent[choice] ? '' : '"role":"assistant","content":""'
    this.#roleSent[choice] = true
    return sseData(`${this.#head}"choices":[{"index":${choice},"delta":{${role}},"logprobs":${this.#takeLogprobs(choice)},"finish_reason":"${reason}"}]${this.#tail}`)
  }

  #takeLogprobs(choice: number): string {
    const pending = this.#logprobs[choice]
    if (!pending) return 'null'
    this.#logprobs[choice] = undefined
    return JSON.stringify(chatLogprobs(pending))
  }
}
