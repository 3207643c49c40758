import type { CompletionRequest, DispatchOptions, DispatchTrace, OutputChannel } from '@cy/core'
import type { GenerationPipeline } from '@cy/gateway'
import type { ApiContext } from '../api-context.ts'
import { newId, unixSeconds } from '../ids.ts'
import { startCompletion } from '../routes/completions.ts'
import type { InferenceBody } from './inference-body.ts'

export { inferenceError } from './engine-error.ts'
export type { InferenceBody } from './inference-body.ts'

/** The seed's generation defaults. */
export const GENERATION_DEFAULTS = { maxNewTokens: 256, temperature: 0.7, topP: 0.95, repetitionPenalty: 1 } as const

export interface InferenceOptions {
  /** The caller's signal: when it aborts, the generation stops (and frees its slot, queued or running). */
  signal: AbortSignal
  /** The queue's order under a full limiter (higher first); passed to the dispatcher as its `priority`. */
  priority?: number
  /** The worker a cluster master should prefer; passed to the dispatcher as its `workerHint`. */
  workerHint?: string
  /** The request's id (logs, `x-request-id`); the REST routes set it on the request's record before this. */
  traceId?: string
  /** The access record the dispatcher fills in (model, queue wait, usage): the REST routes pass theirs. */
  trace?: DispatchTrace
}

export interface StartedInference {
  /** `gen-…`, the seed's response id. */
  id: string
  created: number
  /** The model's output: nothing has read it yet. Abort it to stop the generation. */
  channel: OutputChannel
  /** The channel's chunks as generation events (text deltas, usage, the finish reason), for a sink. */
  pipeline: GenerationPipeline
}

/** The inference body as the completion request of the one completion path, with the seed's defaults. */
export function completionRequest(body: InferenceBody): CompletionRequest {
  const generation = body.generation ?? {}
  const request: CompletionRequest = {
    model: body.modelId,
    prompt: body.prompt,
    max_tokens: generation.maxNewTokens ?? GENERATION_DEFAULTS.maxNewTokens,
    temperature: generation.temperature ?? GENERATION_DEFAULTS.temperature,
    top_p: generation.topP ?? GENERATION_DEFAULTS.topP,
  }
  // 1 is no penalty: left out, so a model that does not declare `repeat_penalty` still serves the default.
  const penalty = generation.repetitionPenalty ?? GENERATION_DEFAULTS.repetitionPenalty
  if (penalty !== 1) request.repeat_penalty = penalty
  if (body.adapter !== undefined) request.adapter = body.adapter
  return request
}

/**
 * Starts an inference (REST `/api/v1/inference*`, gRPC `StreamPredict`): the seed's body as a completion
 * through the dispatcher, on the same path as `/v1/completions`, after a slot of its tenant's own limit
 * (`metadata.tenant`, when configured), held until the output closes. Rejects before anything runs for
 * an unknown model, an unsupported field or a full queue (`inferenceError` gives the seed's shape).
 */
export async function startInference(ctx: ApiContext, body: InferenceBody, options: InferenceOptions): Promise<StartedInference> {
  const meta = { id: newId('gen'), created: unixSeconds(), model: body.modelId }
  const dispatch: DispatchOptions = { signal: options.signal, trace: options.trace }
  if (options.priority !== undefined) dispatch.priority = options.priority
  if (options.workerHint !== undefined) dispatch.workerHint = options.workerHint
  const release = await ctx.tenants.acquire(body.metadata?.tenant, options.signal, ctx.dispatcher.timeouts.queueTimeoutMs)
  let started: Awaited<ReturnType<typeof startCompletion>>
  try {
    started = await startCompletion(ctx, completionRequest(body), meta, 1, dispatch)
  } catch (error) {
    release()
    throw error
  }
  started.channel.onClose(release)
  return { id: meta.id, created: meta.created, ...started }
}
