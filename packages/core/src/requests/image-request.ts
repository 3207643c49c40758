import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { ModelParam } from './shared-params.ts'

/** OpenAI marks most image fields nullable: null means "the default", as leaving it out does. */
const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]))
const Literals = <T extends string>(values: readonly T[], description: string) => Type.Union(values.map((value) => Type.Literal(value)), { description })

export const IMAGE_QUALITIES = ['auto', 'low', 'medium', 'high', 'standard', 'hd'] as const
export const IMAGE_OUTPUT_FORMATS = ['png', 'jpeg', 'webp'] as const

export const LoraSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255, description: 'A LoRA file in the model\'s LoRA folder, without its extension.' }),
    weight: Type.Optional(Type.Number({ minimum: -10, maximum: 10, description: 'Its strength (default 1).' })),
  },
  { additionalProperties: false },
)

/** The fields image generation and image edits share (OpenAI's, then this server's extensions). */
export const ImageParams = {
  model: ModelParam,
  prompt: Type.String({ minLength: 1, maxLength: 32000 }),
  n: Nullable(Type.Integer({ minimum: 1, maximum: 10, description: 'How many images (1–10), made in one batch: image i uses seed + i.' })),
  size: Nullable(Type.String({ pattern: '^(auto|[0-9]{1,5}x[0-9]{1,5})$', description: 'WIDTHxHEIGHT (e.g. 512x512) or auto (the model\'s default size).' })),
  quality: Nullable(Literals(IMAGE_QUALITIES, 'Sampling effort: low, medium, high or auto (dall-e-3\'s standard and hd too), mapped to step counts.')),
  response_format: Nullable(Literals(['url', 'b64_json'] as const, '`b64_json` (default) or `url`, a link served by this server for an hour.')),
  output_format: Nullable(Literals(IMAGE_OUTPUT_FORMATS, 'png (default), jpeg or webp.')),
  output_compression: Nullable(Type.Integer({ minimum: 0, maximum: 100, description: 'Quality of jpeg and webp output, 0–100 (default 100).' })),
  background: Nullable(Literals(['transparent', 'opaque', 'auto'] as const, '`transparent` needs a model that makes alpha.')),
  moderation: Nullable(Literals(['low', 'auto'] as const, 'Accepted; this server does no moderation.')),
  stream: Nullable(Type.Boolean({ description: 'Stream `partial_image` events, then a `completed` event per image.' })),
  partial_images: Nullable(Type.Integer({ minimum: 0, maximum: 3, description: 'Previews to stream while sampling (0–3); fewer may arrive.' })),
  user: Type.Optional(Type.String()),
  // Extensions.
  negative_prompt: Type.Optional(Type.String({ maxLength: 32000, description: 'Extension: what the image should not contain.' })),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 53 - 1, description: 'Extension: seed for reproducible images (default random).' })),
  steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'Extension: sampling steps (overrides quality).' })),
  cfg_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 50, description: 'Extension: classifier-free guidance scale.' })),
  sampler: Type.Optional(Type.String({ maxLength: 64, description: 'Extension: sampling method (euler, euler_a, dpm++2m, lcm...).' })),
  scheduler: Type.Optional(Type.String({ maxLength: 64, description: 'Extension: noise schedule (discrete, karras, exponential...).' })),
  clip_skip: Type.Optional(Type.Integer({ minimum: 1, maximum: 12, description: 'Extension: CLIP layers to skip from the end.' })),
  strength: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Extension: how much an edit may change its image (0 none, 1 all; default 0.75).' })),
  loras: Type.Optional(Type.Array(LoraSchema, { maxItems: 16, description: 'Extension: LoRAs to apply, by name from the model\'s LoRA folder. `<lora:name:weight>` in the prompt works too.' })),
}

export const ImageRequestSchema = Type.Object(
  { ...ImageParams, style: Nullable(Literals(['vivid', 'natural'] as const, "dall-e-3's style; accepted, not applied.")) },
  { description: 'An image generation request (POST /v1/images/generations).', additionalProperties: true },
)

/** An uploaded image, as it came: the encoded bytes, decoded by the model's engine off the main thread. */
export interface ImageInput {
  name: string
  type: string
  bytes: Uint8Array
}

/**
 * What an image handler receives. Set by `/v1/images/edits`: `image` (the pictures to edit; the first is
 * the one changed) and `mask` (alpha 0 marks the area to edit, as OpenAI's masks do).
 */
export type ImageRequest = Static<typeof ImageRequestSchema> & {
  image?: ImageInput[]
  mask?: ImageInput
  input_fidelity?: 'high' | 'low' | null
}
