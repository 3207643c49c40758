import { Elysia } from 'elysia'
import type { ApiContext } from './api-context.ts'
import { openapiDocs } from './docs/openapi-docs.ts'
import { engineGetRoutes } from './engine-api/engine-get-routes.ts'
import { trainingRoutes } from './engine-api/training-routes.ts'
import { errorResponse } from './errors/error-response.ts'
import { fromElysiaError } from './errors/from-elysia-error.ts'
import { applyCors, preflightResponse } from './guards/cors.ts'
import { checkHost } from './guards/host-check.ts'
import { checkRequest, routedPath } from './guards/request-checks.ts'
import { audioTranscriptionsRoute } from './routes/audio-transcriptions.ts'
import { builtinModelsRoute } from './routes/builtin-models.ts'
import { healthRoute } from './routes/health.ts'
import { audioVoicesRoute } from './routes/audio-voices.ts'
import { imageEditsRoute } from './routes/image-edits.ts'
import { imageFilesRoute } from './routes/image-generations.ts'
import { elysiaJsonRoute, jsonRouteDocs } from './routes/json-route.ts'
import { JSON_ROUTES } from './routes/json-routes.ts'
import { metricsRoute } from './routes/metrics.ts'
import { modelsRoute } from './routes/models.ts'
import { responsesResourcesRoute } from './routes/responses-resources.ts'

export interface OpenAIPluginOptions {
  /** Serve `/openapi.json` and Swagger UI at `/docs` (default true). */
  docs?: boolean
  /** The version shown in the docs. */
  version?: string
}

/**
 * Every OpenAI route this server has, as one named Elysia plugin: checks (Host, Origin, API key, body
 * size) before any body is read, CORS, errors in OpenAI's shape, and the routes themselves.
 */
export const openaiPlugin = (ctx: ApiContext, options: OpenAIPluginOptions = {}) => {
  // A request whose body the checks wrapped (to count it) → the one Bun handed over, which holdOpen needs.
  const originals = new WeakMap<Request, Request>()
  // The JSON routes run every check in their own handler (the one Bun's routes call too), so they get the
  // request untouched.
  const selfChecked = new Set(JSON_ROUTES.map((route) => route.path))
  const app = new Elysia({ name: 'cy-openai', seed: ctx })
    .onRequest((context) => {
      const original = context.request
      const preflight = preflightResponse(original, ctx.origins)
      if (preflight) return preflight
      // The router reads its path from the URL as routedPath does once the Host (no `/?#` in it) is checked.
      checkHost(original.headers.get('host'), ctx.hosts)
      const path = routedPath(original.url)
      if (original.method === 'POST' && selfChecked.has(path)) return
      const checked = checkRequest(ctx, original, path)
      if (!original.body) ctx.holdOpen(original)
      else if (checked !== original) {
        originals.set(checked, original)
        ctx.observer.alias(checked, original)
      }
      context.request = checked
    })
    // After the body is parsed (multipart uploads): the handler's time is not idle time.
    .onBeforeHandle({ as: 'global' }, ({ request, route }) => {
      ctx.observer.routed(request, route)
      if (request.body) ctx.holdOpen(originals.get(request) ?? request)
    })
    .onError({ as: 'global' }, ({ code, error, request }) => applyCors(request, errorResponse(fromElysiaError(code, error) ?? error, routedPath(request.url)), ctx.origins))
    .mapResponse({ as: 'global' }, ({ request, response }) => (response instanceof Response ? applyCors(request, response, ctx.origins) : undefined))
  if (options.docs !== false) app.use(openapiDocs(options.version ?? '0.1.0', jsonRouteDocs(JSON_ROUTES)))
  app.use(healthRoute(ctx)).use(modelsRoute(ctx)).use(builtinModelsRoute(ctx)).use(audioTranscriptionsRoute(ctx)).use(audioVoicesRoute(ctx)).use(imageEditsRoute(ctx)).use(imageFilesRoute(ctx)).use(responsesResourcesRoute(ctx))
  app.use(metricsRoute(ctx)).use(engineGetRoutes(ctx)).use(trainingRoutes(ctx))
  for (const route of JSON_ROUTES) app.use(elysiaJsonRoute(ctx, route))
  return app
}
