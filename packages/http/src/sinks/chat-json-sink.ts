import type { GenerationEvent } from '@cy/core'
import type { ResponseSink } from './response-sink.ts'
import { chatCompletionBody, type ResponseMeta } from '../encoders/chat-completion.ts'
import { ChoiceResults } from './generation-result.ts'

/** Chat completions, non-streaming: the events folded into one `chat.completion` body. */
export class ChatJsonSink implements ResponseSink {
  readonly result = new ChoiceResults()

  constructor(readonly meta: ResponseMeta) {}

  onEvent(event: GenerationEvent): string {
    this.result.add(event)
    return ''
  }

  onClose(): string {
    return JSON.stringify(chatCompletionBody(this.meta, this.result))
  }
}
