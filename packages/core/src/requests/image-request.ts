import { Type, type Static } from '@sinclair/typebox'
import { ModelParam } from './shared-params.ts'

export const ImageRequestSchema = Type.Object(
  {
    model: ModelParam,
    prompt: Type.String({ minLength: 1 }),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    size: Type.Optional(Type.String({ pattern: '^(auto|[0-9]{2,5}x[0-9]{2,5})$', description: 'WIDTHxHEIGHT, e.g. 512x512.' })),
    response_format: Type.Optional(Type.Union([Type.Literal('url'), Type.Literal('b64_json')])),
    quality: Type.Optional(Type.String()),
    style: Type.Optional(Type.String()),
    user: Type.Optional(Type.String()),
    seed: Type.Optional(Type.Integer({ description: 'Extension: seed for reproducible images.' })),
    negative_prompt: Type.Optional(Type.String({ description: 'Extension: what the image should not contain.' })),
    steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'Extension: sampling steps.' })),
    cfg_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 50, description: 'Extension: classifier-free guidance scale.' })),
  },
  { description: 'An image generation request (POST /v1/images/generations).', additionalProperties: true },
)

export type ImageRequest = Static<typeof ImageRequestSchema>
