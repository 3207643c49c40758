import { TypeCompiler } from '@sinclair/typebox/compiler'
import { InferenceBodySchema, validationError, type InferenceBody } from '@cy/http'

/** `StreamPredictRequest` as proto-loader decodes it: unset fields are absent (`defaults: false`). */
export interface StreamPredictRequest {
  model_id?: string
  prompt?: string
  adapter?: string
  priority?: number
  generation?: { max_new_tokens?: number; temperature?: number; top_p?: number; repetition_penalty?: number }
  metadata?: { trace_id?: string; tenant?: string; player_id?: string; locale?: string }
  worker_hint?: string
}

export interface PredictCall {
  body: InferenceBody
  priority: number
  workerHint?: string
}

const validator = TypeCompiler.Compile(InferenceBodySchema)

/** Copies the set fields: proto3 strings are '' when unset, so '' counts as absent. */
function present<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== '')) as Partial<T>
}

/**
 * The call's request as the engine API's inference body (the REST routes' own schema checks it, so a
 * bad value gets the same message on both), with its queue priority and worker hint.
 */
export function predictCall(request: StreamPredictRequest): PredictCall {
  const g = request.generation ?? {}
  const generation = present({ maxNewTokens: g.max_new_tokens, temperature: g.temperature, topP: g.top_p, repetitionPenalty: g.repetition_penalty })
  const m = request.metadata ?? {}
  const metadata = present({ traceId: m.trace_id, tenant: m.tenant, playerId: m.player_id, locale: m.locale })
  const body: InferenceBody = {
    modelId: request.model_id ?? '',
    prompt: request.prompt ?? '',
    ...present({ adapter: request.adapter }),
    ...(Object.keys(generation).length > 0 ? { generation } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  }
  if (!validator.Check(body)) throw validationError([...validator.Errors(body)])
  return { body, priority: request.priority ?? 0, ...present({ workerHint: request.worker_hint }) }
}
