import { ApiError } from './api-error.ts'

/**
 * A catalog model that is known but not downloaded yet: seed 002's error, word for word. 404 like an unknown
 * model (the name resolves to nothing servable here), but its own code, so a client can offer the download
 * (`POST /models/builtin/{id}/download`) instead of reporting a typo.
 */
export class ModelNotDownloadedError extends ApiError {
  readonly status = 404
  // The seed's type, not OpenAI's invalid_request_error: clients of the seed branch on it.
  readonly type = 'model_not_found' as const
  override readonly name = 'ModelNotDownloadedError'

  constructor(readonly model: string) {
    super(`Model ${model} not downloaded. Please download it first.`, { param: 'model', code: 'model_not_downloaded' })
  }
}
