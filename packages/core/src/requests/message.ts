import { Type, type Static } from '@sinclair/typebox'

export const TextPartSchema = Type.Object({ type: Type.Literal('text'), text: Type.String() })

export const ImageUrlPartSchema = Type.Object({
  type: Type.Literal('image_url'),
  image_url: Type.Object({
    url: Type.String({ description: 'An http(s) URL or a `data:` URL with base64 image bytes.' }),
    detail: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('low'), Type.Literal('high')])),
  }),
})

export const InputAudioPartSchema = Type.Object({
  type: Type.Literal('input_audio'),
  input_audio: Type.Object({ data: Type.String(), format: Type.String() }),
})

export const RefusalPartSchema = Type.Object({ type: Type.Literal('refusal'), refusal: Type.String() })

export const ContentPartSchema = Type.Union([TextPartSchema, ImageUrlPartSchema, InputAudioPartSchema, RefusalPartSchema])

export const MessageToolCallSchema = Type.Object({
  id: Type.String(),
  type: Type.Literal('function'),
  function: Type.Object({ name: Type.String(), arguments: Type.String() }),
})

const Content = Type.Union([Type.String(), Type.Array(ContentPartSchema), Type.Null()])

export const ChatMessageSchema = Type.Object(
  {
    role: Type.Union([
      Type.Literal('system'),
      Type.Literal('developer'),
      Type.Literal('user'),
      Type.Literal('assistant'),
      Type.Literal('tool'),
      Type.Literal('function'),
    ]),
    content: Type.Optional(Content),
    name: Type.Optional(Type.String()),
    tool_calls: Type.Optional(Type.Array(MessageToolCallSchema)),
    tool_call_id: Type.Optional(Type.String()),
    reasoning_content: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { description: 'One message of the conversation.' },
)

export type ContentPart = Static<typeof ContentPartSchema>
export type ChatMessage = Static<typeof ChatMessageSchema>
export type MessageToolCall = Static<typeof MessageToolCallSchema>
