import { Type } from '@sinclair/typebox'

/** `stop`: one string or up to four. */
export const StopSchema = Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 }), Type.Null()], {
  description: 'Up to 4 sequences where the model stops generating; they are not included in the output.',
})

export const StreamOptionsSchema = Type.Object(
  { include_usage: Type.Optional(Type.Boolean({ description: 'Send a last chunk with the token usage.' })) },
  { description: 'Options for streaming responses (only with `stream: true`).' },
)

/** Sampling parameters shared by chat and legacy completions. */
export const SamplingParams = {
  temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
  top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
  max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  stop: Type.Optional(StopSchema),
  seed: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  presence_penalty: Type.Optional(Type.Union([Type.Number({ minimum: -2, maximum: 2 }), Type.Null()])),
  frequency_penalty: Type.Optional(Type.Union([Type.Number({ minimum: -2, maximum: 2 }), Type.Null()])),
  logit_bias: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()])),
  n: Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: 128, description: 'How many choices to generate for the prompt (models that declare `n`).' }), Type.Null()]),
  ),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  stream_options: Type.Optional(Type.Union([StreamOptionsSchema, Type.Null()])),
  user: Type.Optional(Type.String()),
  // Extensions many local servers accept (llama.cpp, vLLM).
  top_k: Type.Optional(Type.Integer({ minimum: 0, description: 'Extension: sample from the k most likely tokens.' })),
  min_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Extension: minimum probability relative to the top token.' })),
  repeat_penalty: Type.Optional(Type.Number({ minimum: 0, description: 'Extension: penalty for repeated tokens.' })),
  adapter: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: "Extension: a LoRA adapter of the model's adapters folder, by name (the file without .gguf; the model's loraAdapters list them)." }),
  ),
}

export const ModelParam = Type.String({ minLength: 1, description: 'The model to route the request to.' })
