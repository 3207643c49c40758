import { Type, type Static } from '@sinclair/typebox'
import { ModelParam } from './shared-params.ts'

export const TranscriptionFormatSchema = Type.Union([
  Type.Literal('json'),
  Type.Literal('text'),
  Type.Literal('srt'),
  Type.Literal('vtt'),
  Type.Literal('verbose_json'),
])

/**
 * The fields of a transcription or translation, without the file: the file travels as bytes
 * beside them (see `AsrRequest`), since multipart parsing belongs to the transport.
 */
export const TranscriptionParamsSchema = Type.Object(
  {
    model: ModelParam,
    language: Type.Optional(Type.String({ description: 'ISO-639-1 language of the audio.' })),
    prompt: Type.Optional(Type.String()),
    response_format: Type.Optional(TranscriptionFormatSchema),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    timestamp_granularities: Type.Optional(Type.Array(Type.Union([Type.Literal('word'), Type.Literal('segment')]))),
    stream: Type.Optional(Type.Boolean()),
    include: Type.Optional(Type.Array(Type.Union([Type.Literal('logprobs'), Type.Literal('raw_text')]), { description: '`raw_text` (extension): the text with the model\'s own tags, where it has them.' })),
    text_norm: Type.Optional(Type.Union([Type.Literal('with_itn'), Type.Literal('without_itn')], { description: 'Extension: inverse text normalization (punctuation, numbers) on or off, for models that choose.' })),
  },
  {},
)

export type TranscriptionFormat = Static<typeof TranscriptionFormatSchema>
export type TranscriptionParams = Static<typeof TranscriptionParamsSchema>

/** What an ASR handler receives: the parameters, the audio file, and the task. */
export interface AsrRequest extends TranscriptionParams {
  task: 'transcribe' | 'translate'
  file: { name: string; type: string; bytes: Uint8Array }
}
