import type { GenerationEvent } from '@cy/core'
import { completionBody } from '../encoders/completion.ts'
import type { ResponseMeta } from '../encoders/chat-completion.ts'
import { ChoiceResults } from './generation-result.ts'
import type { ResponseSink } from './response-sink.ts'

/** Legacy completions, non-streaming: the events folded into one `text_completion` body. */
export class CompletionJsonSink implements ResponseSink {
  readonly result = new ChoiceResults()

  constructor(
    readonly meta: ResponseMeta,
    /** The prompt text choice `index` repeats (`echo`), else ''. */
    readonly echo: (index: number) => string,
  ) {}

  onEvent(event: GenerationEvent): string {
    this.result.add(event)
    return ''
  }

  onClose(): string {
    return JSON.stringify(completionBody(this.meta, this.result, this.echo))
  }
}
