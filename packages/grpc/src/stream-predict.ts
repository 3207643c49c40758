import { CancelledError, type GenerationEvent } from '@cy/core'
import { inferenceError, startInference, type ApiContext } from '@cy/http'
import type { Metadata, ServerWritableStream } from '@grpc/grpc-js'
import { beginCallRecord } from './call-record.ts'
import { grpcError } from './grpc-status.ts'
import { predictCall, type PredictCall, type StreamPredictRequest } from './predict-request.ts'
import { AI_SERVICE } from './service-definitions.ts'

export interface StreamPredictResponse {
  trace_id: string
  chunk: string
  end_of_stream: boolean
  index: number
  finish_reason?: string
}

type Call = ServerWritableStream<StreamPredictRequest, StreamPredictResponse>

/** The call's route in the access lines and metrics: its gRPC path. */
export const STREAM_PREDICT_ROUTE = `/${AI_SERVICE}/StreamPredict`

/** Writes one response, waiting for the transport when its buffer is full (or until the call is cancelled). */
async function write(call: Call, response: StreamPredictResponse, signal: AbortSignal): Promise<void> {
  if (call.write(response) || signal.aborted) return
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    call.on('drain', done)
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * `AIService.StreamPredict`: the request through the engine API's one inference path (the dispatcher,
 * its queues and limits, the tenant's limit), each text delta as one response, then one with
 * `end_of_stream`. A cancelled call aborts the generation, which frees its slot whether it was running
 * or still queued. Each call gets an access line and the request metrics, as an HTTP request does.
 */
export function streamPredict(ctx: ApiContext, checkKey: (metadata: Metadata) => void): (call: Call) => void {
  return (call) => void serve(ctx, checkKey, call)
}

async function serve(ctx: ApiContext, checkKey: (metadata: Metadata) => void, call: Call): Promise<void> {
  let parsed: PredictCall | undefined
  let invalid: unknown
  try {
    parsed = predictCall(call.request)
  } catch (error) {
    invalid = error
  }
  const record = beginCallRecord(ctx, STREAM_PREDICT_ROUTE, call.metadata, call.getPeer(), parsed?.body)
  const controller = new AbortController()
  const cancel = () => controller.abort(new CancelledError('The client cancelled the call'))
  call.on('cancelled', cancel)
  let httpStatus = 200
  try {
    checkKey(call.metadata)
    if (!parsed) throw invalid
    const { body, priority, workerHint } = parsed
    const started = await startInference(ctx, body, { signal: controller.signal, priority, trace: record, traceId: record.id, ...(workerHint ? { workerHint } : {}) })
    const trace_id = record.id
    let index = 0
    const send = async (events: GenerationEvent[]) => {
      for (const event of events) {
        if (event.type === 'output-text-delta') await write(call, { trace_id, chunk: event.delta, end_of_stream: false, index: index++ }, controller.signal)
        else if (event.type === 'completed') await write(call, { trace_id, chunk: '', end_of_stream: true, index, finish_reason: event.finishReason }, controller.signal)
        else if (event.type === 'error') throw event.error
      }
    }
    await send(started.pipeline.start())
    for (let chunks = await started.channel.take(); chunks !== null; chunks = await started.channel.take()) await send(started.pipeline.push(chunks))
    await send(started.pipeline.end())
    call.end()
  } catch (error) {
    // Whatever still runs stops: the generation's slot is freed with the call.
    if (!controller.signal.aborted) controller.abort(error)
    const failure = inferenceError(error)
    // The access line names what went wrong, whether or not the dispatcher had seen it.
    record.error ??= failure.error
    httpStatus = call.cancelled ? 499 : failure.status
    if (!call.cancelled) call.emit('error', grpcError(error))
  } finally {
    call.off('cancelled', cancel)
    ctx.observer.answered(record, new Response(null, { status: httpStatus }))
  }
}
