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
    // Extensions.
    sample_rate: Type.Optional(Type.Integer({ minimum: 8000, maximum: 48000, description: 'Extension: the output\'s sample rate (resampled by the server; default the model\'s, 24 kHz for pcm).' })),
    language: Type.Optional(Type.String({ maxLength: 32, description: 'Extension: the language, for voices that speak several (an espeak-ng voice name such as en-gb).' })),
    noise_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: 'Extension: Piper\'s noise scale (variation in the voice).' })),
    noise_w: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: 'Extension: Piper\'s noise width (variation in the timing).' })),
  },
  { description: 'A text-to-speech request (POST /v1/audio/speech).', additionalProperties: true },
)

export type SpeechFormat = Static<typeof SpeechFormatSchema>
export type SpeechRequest = Static<typeof SpeechRequestSchema>
