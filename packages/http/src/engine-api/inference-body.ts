import { Type, type Static } from '@sinclair/typebox'

/** A trace id as the request id (`x-request-id`): printable ASCII without spaces, 1 to 128 characters. */
export const TRACE_ID_PATTERN = '^[\\x21-\\x7e]{1,128}$'

/** The seed's generation parameters (camelCase, as it writes them); each absent one takes the seed's default. */
export const GenerationParameters = Type.Object(
  {
    maxNewTokens: Type.Optional(Type.Integer({ minimum: 1, default: 256, description: 'Most tokens to generate (default 256).' })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2, default: 0.7, description: 'Sampling temperature, 0 (greedy) to 2 (default 0.7).' })),
    topP: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.95, description: 'Nucleus sampling (default 0.95).' })),
    repetitionPenalty: Type.Optional(Type.Number({ minimum: 0, default: 1, description: 'Penalty for repeated tokens; 1 is none (default 1.0).' })),
  },
  { additionalProperties: false, description: 'Generation parameters.' },
)

/** The seed's request metadata: echoed in every stream frame (`streamWithMetadata`). */
export const InferenceMetadata = Type.Object(
  {
    traceId: Type.Optional(Type.String({ pattern: TRACE_ID_PATTERN, description: "The request's id: in the logs, the metrics' and the `x-request-id` header." })),
    tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'The tenant: a metrics label, and the key of its concurrency limit (`tenants`).' })),
    playerId: Type.Optional(Type.String({ maxLength: 256, description: 'The player (game backends): echoed and logged.' })),
    locale: Type.Optional(Type.String({ maxLength: 64, description: 'The language region (`zh-CN`): echoed and logged; a raw prompt has no template to render it into.' })),
  },
  { additionalProperties: false, description: 'Request metadata.' },
)

export const InferenceBodySchema = Type.Object(
  {
    modelId: Type.String({ minLength: 1, description: 'The model id (as `GET /api/v1/models` lists it).' }),
    prompt: Type.String({ description: 'The prompt, as raw text (no chat template).' }),
    adapter: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "A LoRA adapter's name, among the model's `loraAdapters` (never a path)." })),
    generation: Type.Optional(GenerationParameters),
    metadata: Type.Optional(InferenceMetadata),
  },
  { additionalProperties: false, description: 'An inference request (POST /api/v1/inference, /inference/stream, /inference/streamWithMetadata).' },
)

export type InferenceBody = Static<typeof InferenceBodySchema>
export type InferenceMetadata = Static<typeof InferenceMetadata>
