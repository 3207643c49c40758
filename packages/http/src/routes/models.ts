import { NotFoundError, type ModelInfo } from '@cy/core'
import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { jsonResponse } from '../json-response.ts'
import { ErrorBody } from '../wire/error-body.ts'
import { ModelList, ModelObject } from '../wire/models.ts'

const modelObject = (info: ModelInfo) => ({ id: info.id, object: 'model', created: info.created, owned_by: info.ownedBy })

export const modelsRoute = (ctx: ApiContext) =>
  new Elysia()
    .get('/v1/models', () => jsonResponse({ object: 'list', data: ctx.registry.infos().map(modelObject) }), {
      response: { 200: ModelList },
      detail: { tags: ['Models'], summary: 'List models' },
    })
    .get(
      '/v1/models/:model',
      ({ params }) => {
        const info = ctx.registry.info(params.model)
        if (!info) throw new NotFoundError(`The model '${params.model}' does not exist`, { param: 'model', code: 'model_not_found' })
        return jsonResponse(modelObject(info))
      },
      {
        params: t.Object({ model: t.String() }),
        response: { 200: ModelObject, 404: ErrorBody },
        detail: { tags: ['Models'], summary: 'Retrieve a model' },
      },
    )
