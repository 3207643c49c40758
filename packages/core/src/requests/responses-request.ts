import { Type, type Static } from '@sinclair/typebox'
import { ModelParam } from './shared-params.ts'

const Text = Type.String()

export const ResponseInputPartSchema = Type.Union([
  Type.Object({ type: Type.Literal('input_text'), text: Text }),
  Type.Object({ type: Type.Literal('output_text'), text: Text }, { additionalProperties: true }),
  Type.Object({ type: Type.Literal('refusal'), refusal: Text }),
  Type.Object(
    { type: Type.Literal('input_image'), image_url: Type.Optional(Type.Union([Type.String(), Type.Null()])), detail: Type.Optional(Type.String()) },
    { additionalProperties: true },
  ),
])

export const ResponseMessageItemSchema = Type.Object(
  {
    type: Type.Optional(Type.Literal('message')),
    id: Type.Optional(Type.String()),
    role: Type.Union([Type.Literal('user'), Type.Literal('assistant'), Type.Literal('system'), Type.Literal('developer')]),
    content: Type.Union([Text, Type.Array(ResponseInputPartSchema)]),
  },
  { additionalProperties: true, description: 'A message: a role and text (or parts).' },
)

export const ResponseFunctionCallItemSchema = Type.Object(
  { type: Type.Literal('function_call'), id: Type.Optional(Type.String()), call_id: Type.String(), name: Type.String(), arguments: Type.String() },
  { additionalProperties: true, description: 'A function call the model made earlier.' },
)

export const ResponseFunctionCallOutputItemSchema = Type.Object(
  { type: Type.Literal('function_call_output'), id: Type.Optional(Type.String()), call_id: Type.String(), output: Type.Union([Text, Type.Array(ResponseInputPartSchema)]) },
  { additionalProperties: true, description: "A function's result, for the call with this `call_id`." },
)

export const ResponseInputItemSchema = Type.Union([ResponseMessageItemSchema, ResponseFunctionCallItemSchema, ResponseFunctionCallOutputItemSchema])

export const ResponseFunctionToolSchema = Type.Object({
  type: Type.Literal('function'),
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9_-]+$' }),
  description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  parameters: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
})

export const ResponseToolChoiceSchema = Type.Union([
  Type.Literal('none'),
  Type.Literal('auto'),
  Type.Literal('required'),
  Type.Object({ type: Type.Literal('function'), name: Type.String() }),
])

export const ResponseTextFormatSchema = Type.Union([
  Type.Object({ type: Type.Literal('text') }),
  Type.Object({ type: Type.Literal('json_object') }),
  Type.Object(
    { type: Type.Literal('json_schema'), name: Type.String({ minLength: 1, maxLength: 64 }), schema: Type.Record(Type.String(), Type.Unknown()), strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])) },
    { additionalProperties: true },
  ),
])

export const ResponsesRequestSchema = Type.Object(
  {
    model: ModelParam,
    input: Type.Optional(Type.Union([Text, Type.Array(ResponseInputItemSchema)])),
    instructions: Type.Optional(Type.Union([Text, Type.Null()])),
    tools: Type.Optional(Type.Array(ResponseFunctionToolSchema, { description: 'Function tools (the only kind a self-hosted model can call).' })),
    tool_choice: Type.Optional(ResponseToolChoiceSchema),
    parallel_tool_calls: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
    top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
    max_output_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    store: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    previous_response_id: Type.Optional(Type.Union([Text, Type.Null()])),
    metadata: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
    text: Type.Optional(Type.Object({ format: Type.Optional(ResponseTextFormatSchema) }, { additionalProperties: true })),
    user: Type.Optional(Text),
  },
  { description: 'A Responses API request (POST /v1/responses).', additionalProperties: true },
)

export type ResponsesRequest = Static<typeof ResponsesRequestSchema>
export type ResponseInputItem = Static<typeof ResponseInputItemSchema>
export type ResponseInputPart = Static<typeof ResponseInputPartSchema>
