import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { jsonResponse } from '../json-response.ts'
import { ErrorBody } from '../wire/error-body.ts'
import { modelObject } from '../wire/model-object.ts'
import { ModelList, ModelObject } from '../wire/models.ts'
import { knownModel, modelControlRoute } from './model-control.ts'

export const modelsRoute = (ctx: ApiContext) =>
  new Elysia()
    // Names registered unlisted (a catalog model's Hugging Face id) answer requests but are shown once, as the model's `cy.aliases`.
    .get('/v1/models', () => jsonResponse({ object: 'list', data: ctx.registry.infos().filter((info) => info.metadata.unlisted !== true).map(modelObject) }), {
      response: { 200: ModelList },
      detail: { tags: ['Models'], summary: 'List models', description: 'Each with cy\'s `cy` object: its state, adapter, file, size and when it was loaded and last used.' },
    })
    .get('/v1/models/:model', ({ params }) => jsonResponse(modelObject(knownModel(ctx, params.model))), {
      params: t.Object({ model: t.String() }),
      response: { 200: ModelObject, 404: ErrorBody },
      detail: { tags: ['Models'], summary: 'Retrieve a model' },
    })
    .use(modelControlRoute(ctx))
