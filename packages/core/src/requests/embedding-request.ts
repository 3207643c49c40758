import { Type, type Static } from '@sinclair/typebox'
import { ModelParam } from './shared-params.ts'

export const EmbeddingRequestSchema = Type.Object(
  {
    model: ModelParam,
    input: Type.Union(
      [
        Type.String(),
        Type.Array(Type.String(), { minItems: 1, maxItems: 2048 }),
        Type.Array(Type.Integer(), { minItems: 1 }),
        Type.Array(Type.Array(Type.Integer(), { minItems: 1 }), { minItems: 1, maxItems: 2048 }),
      ],
      { description: 'Text to embed: a string, strings, tokens or token arrays.' },
    ),
    encoding_format: Type.Optional(Type.Union([Type.Literal('float'), Type.Literal('base64')], { default: 'float' })),
    dimensions: Type.Optional(Type.Integer({ minimum: 1, description: 'Truncate each embedding to this many dimensions.' })),
    user: Type.Optional(Type.String()),
  },
  { description: 'An embeddings request (POST /v1/embeddings).', additionalProperties: true },
)

export type EmbeddingRequest = Static<typeof EmbeddingRequestSchema>
