import type { GenerationEvent, ResultFinishReason } from '@cy/core'
import type { ResponseMeta } from '../encoders/chat-completion.ts'
import { completionLogprobs } from '../encoders/logprobs.ts'
import { sseData } from '../sse/sse-frame.ts'
import { ChoiceStreamSink } from './choice-stream-sink.ts'

/** Legacy completions, streaming: frames of the final object's shape, a piece of one choice's text each. */
export class CompletionSseSink extends ChoiceStreamSink {
  /** Per choice: where its next token starts in its text (the logprobs' `text_offset`). */
  readonly #offsets: number[] = []

  constructor(meta: ResponseMeta, includeUsage: boolean) {
    super(meta, 'text_completion', includeUsage)
  }

  protected contentFrame(event: GenerationEvent): string {
    return event.type === 'output-text-delta' ? this.#frame(event.choice ?? 0, event.delta, 'null') : ''
  }

  protected finishFrame(choice: number, reason: ResultFinishReason): string {
    return this.#frame(choice, '', `"${reason}"`)
  }

  #frame(index: number, text: string, finishReason: string): string {
    const pending = this.takeLogprobs(index)
    let logprobs = 'null'
    if (pending) {
      const wire = completionLogprobs(pending, this.#offsets[index] ?? 0)
      if (wire.tokens.length > 0) this.#offsets[index] = wire.text_offset.at(-1)! + wire.tokens.at(-1)!.length
      logprobs = JSON.stringify(wire)
    }
    return sseData(`${this.head}"choices":[{"index":${index},"text":${JSON.stringify(text)},"logprobs":${logprobs},"finish_reason":${finishReason}}]}`)
  }
}
