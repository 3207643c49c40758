import type { GenerationEvent } from '@cy/core'
import type { ResponseSink } from './response-sink.ts'
import type { ResponseBuilder } from '../responses/response-builder.ts'

/** Responses API, non-streaming: the events folded into one `response` object. */
export class ResponsesJsonSink implements ResponseSink {
  constructor(readonly builder: ResponseBuilder) {}

  onEvent(event: GenerationEvent): string {
    const builder = this.builder
    switch (event.type) {
      case 'output-text-delta': {
        if (!event.delta) break
        builder.message().part.text += event.delta
        break
      }
      case 'tool-call-done':
        builder.closeMessage()
        builder.addFunctionCall(event)
        break
      case 'completed':
        builder.complete(event.finishReason, event.usage)
        break
      case 'error':
        builder.fail(event.error)
        break
    }
    return ''
  }

  onClose(): string {
    return JSON.stringify(this.builder.body())
  }
}
