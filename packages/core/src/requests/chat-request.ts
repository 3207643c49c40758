import { Type, type Static } from '@sinclair/typebox'
import { ChatMessageSchema } from './message.ts'
import { ResponseFormatSchema } from './response-format.ts'
import { ModelParam, SamplingParams } from './shared-params.ts'
import { FunctionToolSchema, ToolChoiceSchema } from './tool.ts'

export const ChatRequestSchema = Type.Object(
  {
    model: ModelParam,
    messages: Type.Array(ChatMessageSchema, { minItems: 1 }),
    ...SamplingParams,
    max_completion_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    tools: Type.Optional(Type.Array(FunctionToolSchema)),
    tool_choice: Type.Optional(ToolChoiceSchema),
    parallel_tool_calls: Type.Optional(Type.Boolean()),
    response_format: Type.Optional(ResponseFormatSchema),
    logprobs: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    top_logprobs: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 20 }), Type.Null()])),
  },
  { description: 'A chat completion request (POST /v1/chat/completions).', additionalProperties: true },
)

export type ChatRequest = Static<typeof ChatRequestSchema>
