import { AuthenticationError, PayloadTooLargeError } from '@cy/core'
import { Elysia } from 'elysia'
import type { ApiContext } from './api-context.ts'
import { openapiDocs } from './docs/openapi-docs.ts'
import { errorResponse } from './errors/error-response.ts'
import { fromElysiaError } from './errors/from-elysia-error.ts'
import { ApiKeyGuard } from './guards/api-key-guard.ts'
import { limitBody } from './guards/body-limit.ts'
import { applyCors, preflightResponse } from './guards/cors.ts'
import { audioSpeechRoute } from './routes/audio-speech.ts'
import { audioTranscriptionsRoute } from './routes/audio-transcriptions.ts'
import { chatCompletionsRoute } from './routes/chat-completions.ts'
import { completionsRoute } from './routes/completions.ts'
import { embeddingsRoute } from './routes/embeddings.ts'
import { healthRoute } from './routes/health.ts'
import { IMAGE_FILES_PATH, imageGenerationsRoute } from './routes/image-generations.ts'
import { modelsRoute } from './routes/models.ts'

export interface OpenAIPluginOptions {
  /** Serve `/openapi.json` and Swagger UI at `/docs` (default true). */
  docs?: boolean
  /** The version shown in the docs. */
  version?: string
}

/** Paths that need the API key: the API itself, except image links (their random id is the permission). */
function needsKey(pathname: string): boolean {
  return pathname.startsWith('/v1/') && !pathname.startsWith(IMAGE_FILES_PATH)
}

/**
 * Every OpenAI route this server has, as one named Elysia plugin: checks (API key, body size) before
 * any body is read, CORS, errors in OpenAI's shape, and the routes themselves.
 */
export const openaiPlugin = (ctx: ApiContext, options: OpenAIPluginOptions = {}) => {
  const app = new Elysia({ name: 'cy-openai', seed: ctx })
    .onRequest((context) => {
      const { request } = context
      if (request.method === 'OPTIONS') return preflightResponse(request, ctx.cors)
      const declared = request.headers.get('content-length')
      const length = Number(declared ?? 0)
      if (length > ctx.maxBodyBytes) {
        throw new PayloadTooLargeError(`The request body is ${length} bytes; the limit is ${ctx.maxBodyBytes} bytes`)
      }
      if (ctx.apiKeys.enabled && needsKey(new URL(request.url).pathname) && !ctx.apiKeys.accepts(ApiKeyGuard.keyFrom(request.headers))) {
        throw new AuthenticationError(
          ApiKeyGuard.keyFrom(request.headers) ? 'Incorrect API key provided' : 'Missing API key: send it as `Authorization: Bearer <key>` or `X-API-Key`',
        )
      }
      // Without a declared length the body is counted as the route reads it.
      if (declared === null && request.method !== 'GET' && request.method !== 'HEAD' && request.body) {
        context.request = limitBody(request, ctx.maxBodyBytes)
      }
    })
    .onError({ as: 'global' }, ({ code, error, request }) => applyCors(request, errorResponse(fromElysiaError(code, error) ?? error), ctx.cors))
    .mapResponse({ as: 'global' }, ({ request, response }) => (response instanceof Response ? applyCors(request, response, ctx.cors) : undefined))
  if (options.docs !== false) app.use(openapiDocs(options.version ?? '0.1.0'))
  return app
    .use(healthRoute(ctx))
    .use(modelsRoute(ctx))
    .use(chatCompletionsRoute(ctx))
    .use(completionsRoute(ctx))
    .use(embeddingsRoute(ctx))
    .use(audioTranscriptionsRoute(ctx))
    .use(audioSpeechRoute(ctx))
    .use(imageGenerationsRoute(ctx))
}
