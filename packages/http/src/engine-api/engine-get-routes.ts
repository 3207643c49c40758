import { NotFoundError } from '@cy/core'
import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { jsonResponse } from '../json-response.ts'
import { EngineHealth, EngineHealthDetails, engineHealth } from './engine-health.ts'
import { EngineModel, EngineModelDetails, EngineModelList, engineModel, engineModelDetails } from './engine-model.ts'
import { EngineErrorBodySchema } from './engine-error.ts'

const errors = { 401: EngineErrorBodySchema, 404: EngineErrorBodySchema }

/** The engine API's GET routes: models and health, behind the API key like every `/api/v1` route. */
export const engineGetRoutes = (ctx: ApiContext) =>
  new Elysia()
    .get('/api/v1/models', () => jsonResponse({ models: ctx.registry.infos().filter((info) => info.metadata.unlisted !== true).map(engineModel) }), {
      response: { 200: EngineModelList, ...errors },
      detail: { tags: ['Engine API: models'], summary: 'List models', description: `Each as ${EngineModel.description}` },
    })
    .get(
      '/api/v1/models/:modelId',
      ({ params }) => {
        const info = ctx.registry.info(params.modelId)
        if (!info) throw new NotFoundError(`Model '${params.modelId}' is not configured`, { param: 'modelId', code: 'model_not_found' })
        return jsonResponse(engineModelDetails(info))
      },
      { params: t.Object({ modelId: t.String() }), response: { 200: EngineModelDetails, ...errors }, detail: { tags: ['Engine API: models'], summary: 'Retrieve a model' } },
    )
    .get('/api/v1/health', () => jsonResponse(engineHealth(ctx, false)), {
      response: { 200: EngineHealth, 401: EngineErrorBodySchema },
      detail: { tags: ['Engine API: health'], summary: 'Health of the gateway, the coordinator and the models' },
    })
    .get('/api/v1/health/details', () => jsonResponse(engineHealth(ctx, true)), {
      response: { 200: EngineHealthDetails, 401: EngineErrorBodySchema },
      detail: { tags: ['Engine API: health'], summary: 'Health with uptime, workers, the queue and model states' },
    })
