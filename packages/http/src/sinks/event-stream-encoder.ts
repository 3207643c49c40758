import type { GenerationEvent, OutputChunk } from '@cy/core'
import type { ResponseSink } from './response-sink.ts'
import type { GenerationPipeline } from '@cy/gateway'
import type { StreamEncoder } from '../sse/stream-response.ts'

/** A channel's chunks through the gateway pipeline into a sink: the streaming side of every generation API. */
export class EventStreamEncoder implements StreamEncoder {
  #started = false

  constructor(
    readonly pipeline: GenerationPipeline,
    readonly sink: ResponseSink,
    /** Called once, after the last event (completed or error). */
    readonly onDone?: () => void,
  ) {}

  encode(chunks: OutputChunk[]): string {
    return this.#write(this.pipeline.push(chunks))
  }

  finish(): string {
    const text = this.#write(this.pipeline.end()) + this.sink.onClose()
    this.onDone?.()
    return text
  }

  failure(error: unknown): string {
    const text = this.#write(this.pipeline.fail(error)) + this.sink.onClose()
    this.onDone?.()
    return text
  }

  #write(events: GenerationEvent[]): string {
    let out = ''
    if (!this.#started) {
      this.#started = true
      for (const event of this.pipeline.start()) out += this.sink.onEvent(event)
    }
    for (const event of events) out += this.sink.onEvent(event)
    return out
  }
}
