import { CancelledError, type OutputChannel, type OutputChunk } from '@cy/core'
import { SSE_HEADERS } from './sse-frame.ts'

type WireText = string | Uint8Array

/**
 * Encodes a channel's chunks into text for the wire. `encode` gets each batch the channel hands over and
 * returns the text for it (several frames joined), so a fast provider costs one write per batch; it may
 * be async (images are re-encoded off the event loop). `finish` returns the closing text; `failure` the
 * text that reports an error after the headers are sent.
 */
export interface StreamEncoder {
  encode(chunks: OutputChunk[]): WireText | Promise<WireText>
  finish(): WireText | Promise<WireText>
  failure(error: unknown): WireText
}

/** An SSE comment: clients ignore it; proxies and idle timers see a live connection. */
export const SSE_KEEP_ALIVE = ': keep-alive\n\n'

export interface StreamTiming {
  /** How long to wait for the first output before committing to the 200 stream, in ms. */
  graceMs: number
  /** Silence after which a `: keep-alive` comment goes out, in ms. */
  keepAliveMs: number
}

/** Whether `first` settled within `ms`: true if it resolved, false if still pending; rejects if it rejected. */
async function settlesWithin(first: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)))
  try {
    return await Promise.race([first.then(() => true as const), late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Streams a channel as an SSE Response once its first output (`first`, already asked of the channel) is
 * in, or once `graceMs` has passed without it: an error before then (the handler failed at once, the
 * queue is full, a timeout) rejects, so the client gets its proper status; one after it is the encoder's
 * error event. A stream committed before any output (a long prefill) opens with a keep-alive comment at
 * once, and every stream gets one after one to two `keepAliveMs` of silence, so no proxy or idle timer
 * takes the silence for a dead connection. A client that goes away aborts the channel, which fires the
 * handler's signal.
 */
export async function eventStream(channel: OutputChannel, first: Promise<OutputChunk[] | null>, encoder: StreamEncoder, timing: StreamTiming): Promise<Response> {
  const arrived = await settlesWithin(first, timing.graceMs)
  return streamResponse(channel, first, encoder, timing.keepAliveMs, !arrived)
}

function streamResponse(channel: OutputChannel, first: Promise<OutputChunk[] | null>, encoder: StreamEncoder, keepAliveMs: number, openEarly: boolean): Response {
  let pending: Promise<OutputChunk[] | null> | null = first
  let done = false
  let wrote = false
  let keepAlive: ReturnType<typeof setInterval> | undefined
  const stop = () => {
    done = true
    clearInterval(keepAlive)
  }
  const body = new ReadableStream<string | Uint8Array>({
    start(controller) {
      // The headers go out with the first bytes: a stream still waiting for output sends a comment now.
      if (openEarly) controller.enqueue(SSE_KEEP_ALIVE)
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
          const chunks = await (pending ?? channel.take())
          pending = null
          if (chunks === null) {
            const closing = await encoder.finish()
            stop()
            controller.enqueue(closing)
            controller.close()
            return
          }
          const text = await encoder.encode(chunks)
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
  return new Response(body as ReadableStream, { headers: SSE_HEADERS })
}
