import { ApiError } from './api-error.ts'

/** 404 with the seed's message: `Model 'x' is not available. Available models: a, b`. */
export class ModelNotFoundError extends ApiError {
  readonly status = 404
  // The seed and OpenAI both report an unknown model as an invalid request.
  readonly type = 'invalid_request_error' as const
  override readonly name = 'ModelNotFoundError'

  constructor(
    readonly model: string,
    readonly available: readonly string[],
  ) {
    super(`Model '${model}' is not available. Available models: ${available.length ? available.join(', ') : '(none)'}`, {
      param: 'model',
      code: 'model_not_found',
    })
  }
}
