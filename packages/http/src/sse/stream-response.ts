import { CancelledError, type OutputChannel, type OutputChunk } from '@cy/core'

/**
 * Encodes a channel's chunks into text for the wire. `encode` gets each batch the channel hands over and
 * returns the text for it (several frames joined), so a fast provider costs one write per batch.
 * `finish` returns the closing text; `failure` the text that reports an error after the headers are sent.
 */
export interface StreamEncoder {
  encode(chunks: OutputChunk[]): string | Uint8Array
  finish(): string | Uint8Array
  failure(error: unknown): string | Uint8Array
}

/**
 * Streams a channel as a Response. The first batch has already been taken (so errors before any output
 * still get a proper status); a client that goes away aborts the channel, which fires the handler's signal.
 */
export function streamResponse(
  channel: OutputChannel,
  first: OutputChunk[] | null,
  encoder: StreamEncoder,
  headers: Record<string, string>,
): Response {
  let pending: OutputChunk[] | null = first
  let done = false
  const body = new ReadableStream<string | Uint8Array>({
    async pull(controller) {
      try {
        // Loop until something is written: a pull that enqueues nothing is not called again.
        while (!done) {
          const chunks = pending ?? (await channel.take())
          pending = null
          if (chunks === null) {
            done = true
            controller.enqueue(encoder.finish())
            controller.close()
            return
          }
          const text = encoder.encode(chunks)
          if (text.length > 0) {
            controller.enqueue(text)
            return
          }
        }
      } catch (error) {
        done = true
        controller.enqueue(encoder.failure(error))
        controller.close()
      }
    },
    cancel() {
      done = true
      channel.abort(new CancelledError('The client closed the stream'))
    },
  })
  return new Response(body as ReadableStream, { headers })
}
