import { toApiError, type OutputChunk } from '@cy/core'
import { sseData } from '../sse/sse-frame.ts'
import type { StreamEncoder } from '../sse/stream-response.ts'

/** `transcript.text.delta` events as text comes (deltas or segments), then `transcript.text.done`, as OpenAI streams transcriptions. */
export class TranscriptStreamEncoder implements StreamEncoder {
  #text = ''

  encode(chunks: OutputChunk[]): string {
    let out = ''
    for (const chunk of chunks) {
      const delta = chunk.type === 'text-delta' || chunk.type === 'transcript-segment' ? chunk.text : ''
      if (!delta) continue
      this.#text += delta
      out += sseData(JSON.stringify({ type: 'transcript.text.delta', delta }))
    }
    return out
  }

  finish(): string {
    return sseData(JSON.stringify({ type: 'transcript.text.done', text: this.#text }))
  }

  failure(error: unknown): string {
    return sseData(JSON.stringify(toApiError(error).toJSON()))
  }
}
