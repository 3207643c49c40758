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

/** An SSE comment: clients ignore it; proxies and idle timers see a live connection. */
export const SSE_KEEP_ALIVE = ': keep-alive\n\n'

/**
 * Streams a channel as a Response. The first batch has already been taken (so errors before any output
 * still get a proper status); a client that goes away aborts the channel, which fires the handler's signal.
 * While the model is silent (a long prefill, a tool call being buffered) a `: keep-alive` comment goes out
 * after one to two `keepAliveMs` of silence, so no proxy or idle timer takes the silence for a dead connection.
 */
export function streamResponse(
  channel: OutputChannel,
  first: OutputChunk[] | null,
  encoder: StreamEncoder,
  headers: Record<string, string>,
  keepAliveMs = 10_000,
): Response {
  let pending: OutputChunk[] | null = first
  let done = false
  let wrote = false
  let keepAlive: ReturnType<typeof setInterval> | undefined
  const stop = () => {
    done = true
    clearInterval(keepAlive)
  }
  const body = new ReadableStream<string | Uint8Array>({
    start(controller) {
      // One timer per stream, not one per chunk: a tick that finds nothing written since the last sends a comment.
      keepAlive = setInterval(() => {
        if (!wrote && !done) controller.enqueue(SSE_KEEP_ALIVE)
        wrote = false
      }, keepAliveMs)
      keepAlive.unref?.()
    },
    async pull(controller) {
      try {
        // Loop until something is written: a pull that enqueues nothing is not called again.
        while (!done) {
          const chunks = pending ?? (await channel.take())
          pending = null
          if (chunks === null) {
            stop()
            controller.enqueue(encoder.finish())
            controller.close()
            return
          }
          const text = encoder.encode(chunks)
          if (text.length > 0) {
            wrote = true
            controller.enqueue(text)
            return
          }
        }
      } catch (error) {
        stop()
        controller.enqueue(encoder.failure(error))
        controller.close()
      }
    },
    cancel() {
      stop()
      channel.abort(new CancelledError('The client closed the stream'))
    },
  })
  return new Response(body as ReadableStream, { headers })
}
