import { BadRequestError, NotFoundError, type ModelInfo } from '@cy/core'
import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { jsonResponse } from '../json-response.ts'
import { ErrorBody } from '../wire/error-body.ts'
import { modelObject } from '../wire/model-object.ts'
import { ModelObject } from '../wire/models.ts'

/** The model, or 404 in OpenAI's words. */
export function knownModel(ctx: ApiContext, name: string): ModelInfo {
  const info = ctx.registry.info(name)
  if (!info) throw new NotFoundError(`The model '${name}' does not exist`, { param: 'model', code: 'model_not_found' })
  return info
}

const doc = (summary: string, description: string) => ({
  params: t.Object({ model: t.String() }),
  response: { 200: ModelObject, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
  detail: { tags: ['Models'], summary, description },
})

/** `POST /v1/models/{model}/load` and `/unload`: behind the API key, answered once done, with the model. */
export const modelControlRoute = (ctx: ApiContext) => {
  const act = async (name: string, action: 'load' | 'unload') => {
    knownModel(ctx, name)
    if (!ctx.models) throw new BadRequestError(`The model '${name}' is registered by the program and cannot be ${action}ed`, { param: 'model', code: 'model_not_managed' })
    await ctx.models[action](name)
    return jsonResponse(modelObject(knownModel(ctx, name)))
  }
  return new Elysia()
    .post('/v1/models/:model/load', ({ params }) => act(params.model, 'load'), doc('Load a model', 'Answers once it is ready (503 with the reason when it fails or finds no room).'))
    .post(
      '/v1/models/:model/unload',
      ({ params }) => act(params.model, 'unload'),
      doc('Unload a model', 'Answers once it is unloaded: its requests in flight finish or fail first. A lazy model loads again on its next request.'),
    )
}
