import { Type, type Static } from '@sinclair/typebox'

export const FunctionToolSchema = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9_-]+$' }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'A JSON Schema object.' })),
    strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  }),
})

export const ToolChoiceSchema = Type.Union([
  Type.Literal('none'),
  Type.Literal('auto'),
  Type.Literal('required'),
  Type.Object({ type: Type.Literal('function'), function: Type.Object({ name: Type.String() }) }),
])

export type FunctionTool = Static<typeof FunctionToolSchema>
export type ToolChoice = Static<typeof ToolChoiceSchema>
