import type { GenerationEvent } from '@cy/core'
import type { ResponseSink } from './response-sink.ts'
import type { ResponseBuilder } from '../responses/response-builder.ts'
import { sseEvent } from '../sse/sse-frame.ts'

/**
 * Responses API, streaming: OpenAI's event sequence, each with its `sequence_number`: `response.created`
 * and `.in_progress`; for text, `output_item.added`, `content_part.added`, `output_text.delta`… and their
 * `done`s; for each function call its item and arguments events; then `response.completed` (or
 * `.incomplete`), or `error` and `response.failed`.
 */
export class ResponsesSseSink implements ResponseSink {
  #sequence = 0

  constructor(readonly builder: ResponseBuilder) {}

  onEvent(event: GenerationEvent): string {
    const builder = this.builder
    switch (event.type) {
      case 'started': {
        const response = builder.body()
        return this.#frame('response.created', { response }) + this.#frame('response.in_progress', { response })
      }
      case 'output-text-delta': {
        if (!event.delta) return ''
        const message = builder.message()
        let out = ''
        if (message.opened) {
          out += this.#frame('response.output_item.added', { output_index: message.index, item: { ...message.item, content: [] } })
          out += this.#frame('response.content_part.added', { item_id: message.item.id, output_index: message.index, content_index: 0, part: { ...message.part, text: '' } })
        }
        message.part.text += event.delta
        return out + this.#frame('response.output_text.delta', { item_id: message.item.id, output_index: message.index, content_index: 0, delta: event.delta, logprobs: [] })
      }
      case 'tool-call-done': {
        let out = this.#closeMessage()
        const { item, index } = builder.addFunctionCall(event)
        out += this.#frame('response.output_item.added', { output_index: index, item: { ...item, status: 'in_progress', arguments: '' } })
        out += this.#frame('response.function_call_arguments.delta', { item_id: item.id, output_index: index, delta: event.arguments })
        out += this.#frame('response.function_call_arguments.done', { item_id: item.id, output_index: index, name: event.name, arguments: event.arguments })
        return out + this.#frame('response.output_item.done', { output_index: index, item })
      }
      case 'completed': {
        const out = this.#closeMessage()
        builder.complete(event.finishReason, event.usage)
        return out + this.#frame(builder.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: builder.body() })
      }
      case 'error': {
        builder.fail(event.error)
        const { error } = event
        return (
          this.#frame('error', { code: error.code ?? error.type, message: error.message, param: error.param ?? null }) +
          this.#frame('response.failed', { response: builder.body() })
        )
      }
      default:
        return ''
    }
  }

  onClose(): string {
    return ''
  }

  #closeMessage(): string {
    const open = this.builder.closeMessage()
    if (!open) return ''
    const { item, part, index } = open
    return (
      this.#frame('response.output_text.done', { item_id: item.id, output_index: index, content_index: 0, text: part.text, logprobs: [] }) +
      this.#frame('response.content_part.done', { item_id: item.id, output_index: index, content_index: 0, part: { ...part } }) +
      this.#frame('response.output_item.done', { output_index: index, item: structuredClone(item) })
    )
  }

  #frame(type: string, fields: Record<string, unknown>): string {
    return sseEvent(type, JSON.stringify({ type, sequence_number: this.#sequence++, ...fields }))
  }
}
