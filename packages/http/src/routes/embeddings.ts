import { EmbeddingRequestSchema, type EmbeddingRequest } from '@cy/core'
import { embeddingListBody } from '../encoders/embedding-list.ts'
import { jsonResponse } from '../json-response.ts'
import { EmbeddingList } from '../wire/embedding-list.ts'
import { errorResponses } from '../wire/error-body.ts'
import type { JsonRoute } from './json-route.ts'

/** How many vectors a request asks for: one per string or token array. */
function inputCount(input: EmbeddingRequest['input']): number {
  if (typeof input === 'string') return 1
  return typeof input[0] === 'number' ? 1 : input.length
}

export const embeddingsRoute: JsonRoute<EmbeddingRequest> = {
  path: '/v1/embeddings',
  schema: EmbeddingRequestSchema,
  response: { 200: EmbeddingList, ...errorResponses },
  detail: { tags: ['Embeddings'], summary: 'Create embeddings', description: '`encoding_format` float or base64; `dimensions` shortens and re-normalizes.' },
  async serve(ctx, embedding, request) {
    const channel = await ctx.dispatcher.dispatch('embedding', embedding, { signal: () => request.signal, trace: ctx.observer.record(request) })
    return jsonResponse(
      await embeddingListBody(channel, {
        model: embedding.model,
        inputCount: inputCount(embedding.input),
        encoding: embedding.encoding_format ?? 'float',
        dimensions: embedding.dimensions,
      }),
    )
  },
}
