import { t } from 'elysia'

const Usage = t.Object(
  {
    prompt_tokens: t.Integer(),
    completion_tokens: t.Integer(),
    total_tokens: t.Integer(),
  },
  { description: 'Token counts, in the model\'s own tokens.', additionalProperties: false },
)

const FinishReason = t.Union([t.Literal('stop'), t.Literal('length'), t.Literal('content_filter')])

export const InferenceResponse = t.Object(
  {
    id: t.String({ pattern: '^gen-', description: '`gen-` and 128 random bits in hex.' }),
    modelId: t.String(),
    object: t.Literal('text_completion'),
    created: t.Integer({ description: 'Unix seconds.' }),
    choices: t.Array(t.Object({ index: t.Integer(), text: t.String(), finish_reason: FinishReason }), { minItems: 1, maxItems: 1 }),
    usage: Usage,
  },
  { description: 'A whole generation (POST /api/v1/inference).' },
)

const EchoedMetadata = t.Object(
  { traceId: t.String(), tenant: t.Optional(t.String()), playerId: t.Optional(t.String()), locale: t.Optional(t.String()) },
  { description: "The request's metadata, echoed; `traceId` is the request's id (also `x-request-id`)." },
)

/**
 * One SSE frame's JSON: a piece of text with its `offset` (the frame's place in the stream, from 0); the
 * last frame has empty text and the `finish_reason`. `/streamWithMetadata` frames carry `metadata`.
 */
export const InferenceChunk = t.Object(
  {
    id: t.String({ pattern: '^gen-' }),
    object: t.Literal('text_completion.chunk'),
    choices: t.Array(t.Object({ index: t.Integer(), text: t.String(), finish_reason: t.Optional(FinishReason), offset: t.Integer({ minimum: 0 }) }), {
      minItems: 1,
      maxItems: 1,
    }),
    metadata: t.Optional(EchoedMetadata),
  },
  { description: 'An SSE frame of /api/v1/inference/stream and /streamWithMetadata (`data: <this>`), then `data: [DONE]`.' },
)
