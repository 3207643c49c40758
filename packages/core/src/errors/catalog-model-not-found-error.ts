import { ApiError } from './api-error.ts'

/** 404 for a `/models/builtin/{id}` naming no catalog entry, in seed 002's words. */
export class CatalogModelNotFoundError extends ApiError {
  readonly status = 404
  readonly type = 'invalid_request_error' as const
  override readonly name = 'CatalogModelNotFoundError'

  constructor(readonly model: string) {
    super(`Model ${model} not found in builtin models`, { param: 'model_id', code: 'model_not_found' })
  }
}
