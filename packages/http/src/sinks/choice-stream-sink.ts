import type { GenerationEvent, GenerationUsage, ResultFinishReason, TokenLogprob } from '@cy/core'
import type { ResponseMeta } from '../encoders/chat-completion.ts'
import { tokenUsage } from '../encoders/token-usage.ts'
import { SSE_DONE, sseData } from '../sse/sse-frame.ts'
import type { ResponseSink } from './response-sink.ts'

/**
 * What chat's and legacy completions' streams share: frames of one choice each (`index`, with `n` > 1),
 * a token's logprobs held until its choice's next frame, every choice's finish frame at the end, then the
 * usage frame (`stream_options.include_usage`) and `[DONE]`; an error is an error frame.
 */
export abstract class ChoiceStreamSink implements ResponseSink {
  /** Every frame's JSON up to its `choices`. */
  protected readonly head: string
  readonly #logprobs: Array<TokenLogprob[] | undefined> = []
  #usage: GenerationUsage | undefined

  constructor(
    meta: ResponseMeta,
    object: string,
    readonly includeUsage: boolean,
  ) {
    this.head = `{"id":${JSON.stringify(meta.id)},"object":"${object}","created":${meta.created},"model":${JSON.stringify(meta.model)},`
  }

  onEvent(event: GenerationEvent): string {
    switch (event.type) {
      case 'logprobs':
        ;(this.#logprobs[event.choice ?? 0] ??= []).push(...event.content)
        return ''
      case 'usage':
        this.#usage = event
        return ''
      case 'completed': {
        let out = ''
        const reasons = event.choices ?? [event.finishReason]
        reasons.forEach((reason, choice) => (out += this.finishFrame(choice, reason)))
        if (this.includeUsage) out += sseData(`${this.head}"choices":[],"usage":${JSON.stringify(tokenUsage(event.usage ?? this.#usage))}}`)
        return out + SSE_DONE
      }
      case 'error':
        return sseData(JSON.stringify(event.error.toJSON()))
      default:
        return this.contentFrame(event)
    }
  }

  onClose(): string {
    return ''
  }

  /** The frame for an event of the answer itself (text, reasoning, a tool call), or '' for none. */
  protected abstract contentFrame(event: GenerationEvent): string

  /** The frame that ends a choice. */
  protected abstract finishFrame(choice: number, reason: ResultFinishReason): string

  /** The logprobs of a choice's tokens that no frame has carried yet, taken. */
  protected takeLogprobs(choice: number): TokenLogprob[] | undefined {
    const pending = this.#logprobs[choice]
    this.#logprobs[choice] = undefined
    return pending
  }
}
