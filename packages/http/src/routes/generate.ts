import type { ChatRequest, OutputChannel, OutputChunk } from '@cy/core'
import { UNGATED, type GenerationPipeline } from '@cy/gateway'
import type { ApiContext } from '../api-context.ts'
import { callerId } from '../caller-id.ts'
import { rawJsonResponse } from '../json-response.ts'
import type { ImageParamNamer } from '../media/image-url-resolver.ts'
import { resolveChatImages } from '../media/resolve-chat-images.ts'
import { collectEvents } from '../sinks/collect-events.ts'
import { EventStreamEncoder } from '../sinks/event-stream-encoder.ts'
import type { ResponseSink } from '../sinks/response-sink.ts'
import { eventStream } from '../sse/stream-response.ts'

/** A generation under way: the handler's output, its first batch (already asked for), and the pipeline. */
export interface StartedGeneration {
  channel: OutputChannel
  first: Promise<OutputChunk[] | null>
  pipeline: GenerationPipeline
}

/**
 * Starts a chat-shaped generation through the gateway: the session and its gate (released when the output
 * closes, or at once if the request never starts), the tool bridge, and the events pipeline. The gate's
 * signal goes to the dispatcher with the client's, so a takeover (`cancel_previous`) cancels this request
 * whether it runs or still waits in a queue. Image URLs become data URIs first, before the request takes a
 * session or a slot (`imageParam` names a part in the client's own request for errors).
 */
export async function startGeneration(
  ctx: ApiContext,
  original: ChatRequest,
  request: Request,
  meta: { id: string; created: number },
  imageParam?: ImageParamNamer,
): Promise<StartedGeneration> {
  const chat = await resolveChatImages(ctx.media, ctx.registry, original, request.signal, imageParam)
  const prepared = ctx.gateway.prepare(chat, { responseId: meta.id, created: meta.created }, () => callerId(ctx, request))
  const { ticket, pipeline } = prepared
  const gateSignal = ticket.signal
  const signal = gateSignal ? () => AbortSignal.any([request.signal, gateSignal]) : () => request.signal
  let channel: OutputChannel
  try {
    channel = await ctx.dispatcher.dispatch('chat', prepared.request, { signal, trace: ctx.observer.record(request) })
  } catch (error) {
    ticket.release()
    throw error
  }
  if (ticket !== UNGATED) channel.onClose(ticket.release)
  return { channel, first: channel.take(), pipeline }
}

/**
 * A generation's answer: its events through `sink`, as one JSON body (once the output has ended; a
 * failure rejects, so the client gets its status) or as an event stream (`eventStream`'s grace and
 * keep-alives). `onDone` runs once after the last event.
 */
export async function generationResponse(ctx: ApiContext, started: StartedGeneration, stream: boolean, sink: ResponseSink, onDone?: () => void): Promise<Response> {
  const { channel, first, pipeline } = started
  if (stream) return eventStream(channel, first, new EventStreamEncoder(pipeline, sink, onDone), ctx.stream)
  const json = await collectEvents(channel, first, pipeline, sink)
  onDone?.()
  return rawJsonResponse(json)
}
