import type { GenerationEvent } from '@cy/core'
import type { ResponseSink } from '../sinks/response-sink.ts'
import { SSE_DONE, sseData } from '../sse/sse-frame.ts'
import { engineErrorBody } from './engine-error.ts'

/**
 * `/api/v1/inference/stream` and `/streamWithMetadata`: a frame per piece of text, `offset` counting the
 * frames from 0 (as gRPC's `index` counts chunks); the last frame has no text and the `finish_reason`
 * (holding a piece back to send it with the reason would delay every piece by one), then `[DONE]`. An
 * error after the stream began is a frame in the engine API's error shape. `metadata`, when given, is
 * echoed in every frame.
 */
export class InferenceSseSink implements ResponseSink {
  readonly #head: string
  readonly #tail: string
  #offset = 0

  constructor(id: string, metadata?: Readonly<Record<string, string>>) {
    this.#head = `{"id":${JSON.stringify(id)},"object":"text_completion.chunk","choices":[{"index":0,`
    this.#tail = metadata ? `}],"metadata":${JSON.stringify(metadata)}}` : '}]}'
  }

  onEvent(event: GenerationEvent): string {
    switch (event.type) {
      case 'output-text-delta':
        return event.delta === '' ? '' : this.#frame(`"text":${JSON.stringify(event.delta)}`)
      case 'completed':
        return this.#frame(`"text":"","finish_reason":"${event.finishReason}"`) + SSE_DONE
      case 'error':
        return sseData(JSON.stringify(engineErrorBody(event.error)))
      default:
        return ''
    }
  }

  onClose(): string {
    return ''
  }

  #frame(fields: string): string {
    return sseData(`${this.#head}${fields},"offset":${this.#offset++}${this.#tail}`)
  }
}
