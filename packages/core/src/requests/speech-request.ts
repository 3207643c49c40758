import { Type, type Static } from '@sinclair/typebox'
import { ModelParam } from './shared-params.ts'

export const SpeechFormatSchema = Type.Union([
  Type.Literal('mp3'),
  Type.Literal('opus'),
  Type.Literal('aac'),
  Type.Literal('flac'),
  Type.Literal('wav'),
  Type.Literal('pcm'),
])

export const SpeechRequestSchema = Type.Object(
  {
    model: ModelParam,
    input: Type.String({ minLength: 1, maxLength: 4096 }),
    voice: Type.String({ minLength: 1 }),
    response_format: Type.Optional(SpeechFormatSchema),
    speed: Type.Optional(Type.Number({ minimum: 0.25, maximum: 4 })),
    instructions: Type.Optional(Type.String()),
    stream_format: Type.Optional(Type.Union([Type.Literal('audio'), Type.Literal('sse')])),
  },
  { description: 'A text-to-speech request (POST /v1/audio/speech).', additionalProperties: true },
)

export type SpeechFormat = Static<typeof SpeechFormatSchema>
export type SpeechRequest = Static<typeof SpeechRequestSchema>
