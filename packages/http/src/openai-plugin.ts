import { Elysia } from 'elysia'
import type { ApiContext } from './api-context.ts'
import { openapiDocs } from './docs/openapi-docs.ts'
import { errorResponse } from './errors/error-response.ts'
import { fromElysiaError } from './errors/from-elysia-error.ts'
import { applyCors, preflightResponse } from './guards/cors.ts'
import { checkRequest } from './guards/request-checks.ts'
import { audioTranscriptionsRoute } from './routes/audio-transcriptions.ts'
import { healthRoute } from './routes/health.ts'
import { imageFilesRoute } from './routes/image-generations.ts'
import { elysiaJsonRoute } from './routes/json-route.ts'
import { JSON_ROUTES } from './routes/json-routes.ts'
import { modelsRoute } from './routes/models.ts'
import { responsesResourcesRoute } from './routes/responses-resources.ts'

export interface OpenAIPluginOptions {
  /** Serve `/openapi.json` and Swagger UI at `/docs` (default true). */
  docs?: boolean
  /** The version shown in the docs. */
  version?: string
}

/**
 * Every OpenAI route this server has, as one named Elysia plugin: checks (API key, body size) before
 * any body is read, CORS, errors in OpenAI's shape, and the routes themselves.
 */
export const openaiPlugin = (ctx: ApiContext, options: OpenAIPluginOptions = {}) => {
  const app = new Elysia({ name: 'cy-openai', seed: ctx })
    .onRequest((context) => {
      if (context.request.method === 'OPTIONS') return preflightResponse(context.request, ctx.cors)
      context.request = checkRequest(ctx, context.request)
    })
    .onError({ as: 'global' }, ({ code, error, request }) => applyCors(request, errorResponse(fromElysiaError(code, error) ?? error), ctx.cors))
    .mapResponse({ as: 'global' }, ({ request, response }) => (response instanceof Response ? applyCors(request, response, ctx.cors) : undefined))
  if (options.docs !== false) app.use(openapiDocs(options.version ?? '0.1.0'))
  app.use(healthRoute(ctx)).use(modelsRoute(ctx)).use(audioTranscriptionsRoute(ctx)).use(imageFilesRoute(ctx)).use(responsesResourcesRoute(ctx))
  for (const route of JSON_ROUTES) app.use(elysiaJsonRoute(ctx, route))
  return app
}
