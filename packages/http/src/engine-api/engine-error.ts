import { ApiError, toApiError } from '@cy/core'
import { t } from 'elysia'

/**
 * The engine API's error codes (the seed's table, its training ones included) and the
 * status each answers with. The status is always the one error model's: statuses the seed has no code
 * for get one of their own (401, 403, 409, 413, 499, 504), and an engine's failure (502) is the seed's
 * INTERNAL_ERROR with its 502.
 */
export const ENGINE_ERROR_STATUS = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  TRAINING_JOB_NOT_FOUND: 404,
  TRAINING_JOB_RUNNING: 400,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  CANCELLED: 499,
  INTERNAL_ERROR: 500,
  MODEL_NOT_READY: 503,
  INSUFFICIENT_RESOURCES: 503,
  TIMEOUT: 504,
} as const

export type EngineErrorCode = keyof typeof ENGINE_ERROR_STATUS

export interface EngineErrorDetail {
  type: string
  field: string | null
  description: string
  /** The 1-based line (JSONL) or 0-based index (JSON array) of a dataset's bad record. */
  line?: number
  index?: number
}

export interface EngineErrorBody {
  error: { code: EngineErrorCode; message: string; details: EngineErrorDetail[] }
}

export const EngineErrorBodySchema = t.Object(
  {
    error: t.Object({
      code: t.Union(Object.keys(ENGINE_ERROR_STATUS).map((code) => t.Literal(code))),
      message: t.String(),
      details: t.Array(
        t.Object({
          type: t.String(),
          field: t.Union([t.String(), t.Null()]),
          description: t.String(),
          line: t.Optional(t.Integer({ description: "A training dataset's bad record: its line (JSONL, from 1)." })),
          index: t.Optional(t.Integer({ description: 'Or its index (a JSON array, from 0).' })),
        }),
      ),
    }),
  },
  { description: "Every `/api/v1` error, in the engine API's shape: `code` names its kind, `details` the field at fault." },
)

/** The error responses every `/api/v1` route can give, for the docs. */
export const engineErrorResponses = Object.fromEntries(
  [...new Set([...Object.values(ENGINE_ERROR_STATUS), 502])].map((status) => [status, EngineErrorBodySchema]),
) as Record<number, typeof EngineErrorBodySchema>

/** Codes of the one error model (snake_case) that are engine codes of their own. */
const BY_CODE: Record<string, EngineErrorCode> = {
  model_not_found: 'MODEL_NOT_FOUND',
  model_not_downloaded: 'MODEL_NOT_FOUND',
  model_not_ready: 'MODEL_NOT_READY',
  model_not_loaded: 'MODEL_NOT_READY',
  model_failed: 'MODEL_NOT_READY',
  training_job_not_found: 'TRAINING_JOB_NOT_FOUND',
  training_job_running: 'TRAINING_JOB_RUNNING',
}

const BY_STATUS: Record<number, EngineErrorCode> = {
  400: 'INVALID_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  499: 'CANCELLED',
  503: 'INSUFFICIENT_RESOURCES',
  504: 'TIMEOUT',
}

/** The completion request's fields (the one error model names those) → the inference body's. */
const FIELDS: Record<string, string> = {
  model: 'modelId',
  max_tokens: 'generation.maxNewTokens',
  temperature: 'generation.temperature',
  top_p: 'generation.topP',
  repeat_penalty: 'generation.repetitionPenalty',
}

/** The engine API's code for an error of the one model. */
export function engineErrorCode(error: ApiError): EngineErrorCode {
  const own = error.code ? BY_CODE[error.code] : undefined
  if (own) return own
  if (error.status >= 400 && error.status < 500) return BY_STATUS[error.status] ?? 'INVALID_REQUEST'
  return BY_STATUS[error.status] ?? 'INTERNAL_ERROR'
}

/**
 * Anything thrown, in the engine API's shape (`/api/v1`, and the gRPC service's status mapping): the one
 * error model's status and message, the seed's code, and a detail naming the field in the engine API's
 * own words (`modelId`, `generation.topP`).
 */
export function inferenceError(thrown: unknown): { status: number; body: EngineErrorBody; error: ApiError } {
  const error = toApiError(thrown)
  const code = engineErrorCode(error)
  const field = error.param === null ? null : (FIELDS[error.param] ?? error.param)
  // A dataset error says where in the file (TrainingDatasetError's `location`; not `line`, which Bun sets on every Error).
  const { line, index } = ((error as { location?: unknown }).location ?? {}) as { line?: unknown; index?: unknown }
  const detail: EngineErrorDetail = {
    type: error.code ?? error.type,
    field,
    description: error.message,
    ...(typeof line === 'number' ? { line } : {}),
    ...(typeof index === 'number' ? { index } : {}),
  }
  return { status: error.status, body: { error: { code, message: error.message, details: [detail] } }, error }
}

/** The engine API's prefix: errors under it take the engine API's shape. */
export const ENGINE_API_PREFIX = '/api/v1'

export function isEngineApiPath(path: string): boolean {
  return path === ENGINE_API_PREFIX || path.startsWith(`${ENGINE_API_PREFIX}/`)
}

/** The engine API's error body for an error of the one model. */
export function engineErrorBody(error: ApiError): EngineErrorBody {
  return inferenceError(error).body
}
