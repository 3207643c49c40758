import { OutputChannel, type Capability, type CapabilityRequests, type ChatRequest, type OutputChunk } from '@cy/core'
import { UNGATED, type GenerationPipeline, type Session } from '@cy/gateway'
import type { ApiContext } from '../api-context.ts'
import { callerId } from '../caller-id.ts'
import { nextBatch, then, type MaybePromise } from '../next-batch.ts'

export interface Started {
  channel: OutputChannel
  /** The first batch of output, or null if the handler ended without any. */
  first: OutputChunk[] | null
}

/**
 * Dispatches a request and waits for its first output. Until then nothing is sent, so a handler that
 * fails at once, a full queue or a timeout still reach the client as a proper HTTP status. Synchronous
 * when the handler has already answered.
 */
export function start<K extends Capability>(ctx: ApiContext, capability: K, body: CapabilityRequests[K], request: Request): MaybePromise<Started> {
  return then(ctx.dispatcher.begin(capability, body, { signal: () => request.signal }), (channel) =>
    then(nextBatch(channel), (first) => ({ channel, first })),
  )
}

export interface StartedGeneration extends Started {
  pipeline: GenerationPipeline
  session: Session
}

const NATIVE = { toolCalls: 'native' } as const

/**
 * `start` for a chat-shaped generation, through the gateway: the session and its gate (released when the
 * output closes, or at once if the request never starts), the tool bridge, and the events pipeline. The
 * gate's signal goes to the dispatcher with the client's, so a takeover (`cancel_previous`) cancels this
 * request whether it runs or still waits in a queue.
 */
export function startGeneration(ctx: ApiContext, chat: ChatRequest, request: Request, meta: { id: string; created: number }): MaybePromise<StartedGeneration> {
  const settings = ctx.registry.toolSettings(chat.model) ?? NATIVE
  const prepared = ctx.gateway.prepare(chat, settings, { responseId: meta.id, created: meta.created }, () => callerId(ctx, request))
  const { ticket, pipeline, session } = prepared
  const gateSignal = ticket.signal
  const signal = gateSignal ? () => AbortSignal.any([request.signal, gateSignal]) : () => request.signal
  let began: MaybePromise<OutputChannel>
  try {
    began = ctx.dispatcher.begin('chat', prepared.request, { signal })
  } catch (error) {
    ticket.release()
    throw error
  }
  if (began instanceof Promise) {
    began = began.catch((error: unknown) => {
      ticket.release()
      throw error
    })
  }
  return then(began, (opened) => {
    if (ticket !== UNGATED) opened.onClose(ticket.release)
    return then(nextBatch(opened), (first) => ({ channel: opened, first, pipeline, session }))
  })
}
