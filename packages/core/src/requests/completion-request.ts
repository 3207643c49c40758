import { Type, type Static } from '@sinclair/typebox'
import { ModelParam, SamplingParams } from './shared-params.ts'

export const CompletionRequestSchema = Type.Object(
  {
    model: ModelParam,
    prompt: Type.Union([Type.String(), Type.Array(Type.String()), Type.Array(Type.Integer()), Type.Array(Type.Array(Type.Integer()))], {
      description: 'The prompt: a string, strings, or token arrays.',
    }),
    ...SamplingParams,
    suffix: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    echo: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    best_of: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1 }), Type.Null()])),
    logprobs: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 5 }), Type.Null()])),
  },
  { description: 'A legacy text completion request (POST /v1/completions).', additionalProperties: true },
)

export type CompletionRequest = Static<typeof CompletionRequestSchema>
