import { ApiError } from '@cy/core'

/** 400 `invalid_image_url` (or a more precise code): an image part the server cannot or will not turn into image bytes; `param` names the part. */
export class InvalidImageUrlError extends ApiError {
  readonly status = 400
  readonly type = 'invalid_request_error' as const
  override readonly name: string = 'InvalidImageUrlError'

  constructor(param: string, message: string, code = 'invalid_image_url') {
    super(`${param}: ${message}`, { param, code })
  }
}
