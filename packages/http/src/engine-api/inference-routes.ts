import type { ApiContext } from '../api-context.ts'
import type { AccessRecord } from '../observability/access-record.ts'
import { generationResponse } from '../routes/generate.ts'
import type { JsonRoute } from '../routes/json-route.ts'
import { engineErrorResponses } from './engine-error.ts'
import { InferenceBodySchema, type InferenceBody, type InferenceMetadata } from './inference-body.ts'
import { InferenceJsonSink } from './inference-json-sink.ts'
import { InferenceSseSink } from './inference-sse-sink.ts'
import { InferenceChunk, InferenceResponse } from './inference-wire.ts'
import { startInference } from './start-inference.ts'

type Mode = 'json' | 'stream' | 'metadata'

const TAGS = ['Engine API: inference']

/**
 * The request's metadata put to work: `traceId` becomes the request's id (the access line, the
 * `x-request-id` header), `tenant` its metrics label (a configured tenant's name, else `other`),
 * `playerId` and `locale` go to the access line. Returns the metadata as the frames echo it, with the
 * request's id as `traceId` (the client's own, a `traceparent`'s trace id, or a new one).
 */
function applyMetadata(ctx: ApiContext, record: AccessRecord | undefined, metadata: InferenceMetadata = {}): Record<string, string> {
  const traceId = metadata.traceId ?? record?.id ?? crypto.randomUUID()
  if (record) {
    record.id = traceId
    record.tenant = ctx.tenants.label(metadata.tenant)
    record.playerId = metadata.playerId
    record.locale = metadata.locale
  }
  return { ...metadata, traceId }
}

async function serveInference(ctx: ApiContext, body: InferenceBody, request: Request, mode: Mode): Promise<Response> {
  const record = ctx.observer.record(request)
  const echoed = applyMetadata(ctx, record, body.metadata)
  const started = await startInference(ctx, body, { signal: request.signal, trace: record, traceId: echoed.traceId })
  const sink =
    mode === 'json'
      ? new InferenceJsonSink({ id: started.id, created: started.created, model: body.modelId })
      : new InferenceSseSink(started.id, mode === 'metadata' ? echoed : undefined)
  return generationResponse(ctx, { ...started, first: started.channel.take() }, mode !== 'json', sink)
}

const LOCALE_NOTE =
  '`metadata`: `traceId` is the request id (logs, `x-request-id`; without it a W3C `traceparent` header\'s trace id, else a new one), ' +
  '`tenant` a metrics label with its own concurrency limit when configured, `playerId` and `locale` are logged; ' +
  'the prompt is raw text, so no chat template renders `locale`.'

export const inferenceRoute: JsonRoute<InferenceBody> = {
  path: '/api/v1/inference',
  schema: InferenceBodySchema,
  response: { 200: InferenceResponse, ...engineErrorResponses },
  detail: { tags: TAGS, summary: 'Generate text (non-streaming)', description: `The seed's defaults: maxNewTokens 256, temperature 0.7, topP 0.95, repetitionPenalty 1.0. ${LOCALE_NOTE}` },
  serve: (ctx, body, request) => serveInference(ctx, body, request, 'json'),
}

export const inferenceStreamRoute: JsonRoute<InferenceBody> = {
  path: '/api/v1/inference/stream',
  schema: InferenceBodySchema,
  response: { 200: InferenceChunk, ...engineErrorResponses },
  detail: { tags: TAGS, summary: 'Generate text as SSE', description: `\`text/event-stream\`: \`data: <chunk>\` frames, the last with \`finish_reason\`, then \`data: [DONE]\`. ${LOCALE_NOTE}` },
  serve: (ctx, body, request) => serveInference(ctx, body, request, 'stream'),
}

export const inferenceStreamWithMetadataRoute: JsonRoute<InferenceBody> = {
  path: '/api/v1/inference/streamWithMetadata',
  schema: InferenceBodySchema,
  response: { 200: InferenceChunk, ...engineErrorResponses },
  detail: { tags: TAGS, summary: 'Generate text as SSE, metadata echoed in every frame', description: `As /api/v1/inference/stream, each frame with \`metadata\`. ${LOCALE_NOTE}` },
  serve: (ctx, body, request) => serveInference(ctx, body, request, 'metadata'),
}

/** The engine API's JSON routes. */
export const ENGINE_JSON_ROUTES: readonly JsonRoute<InferenceBody>[] = [inferenceRoute, inferenceStreamRoute, inferenceStreamWithMetadataRoute]
