import { BadRequestError } from './bad-request-error.ts'

/** 400 `unsupported_parameter`: the request asks for something its model does not do (instead of it being ignored). */
export class UnsupportedParameterError extends BadRequestError {
  constructor(model: string, param: string, detail?: string) {
    super(`Model '${model}' does not support '${param}'${detail ? ` ${detail}` : ''}.`, { param, code: 'unsupported_parameter' })
  }
}
