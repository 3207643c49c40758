import { BadRequestError, type AsrRequest } from '@cy/core'
import type { TranscribeArgs } from './engine/transcribe-args.ts'
import { SENSEVOICE_LANGUAGES, type SenseVoiceLanguage } from './model-files/sensevoice-metadata.ts'
import type { SenseVoiceOptions } from './sensevoice-options.ts'

/** The optional transcription fields this adapter honours; the server refuses any other with 400 `unsupported_parameter`. */
export const SENSEVOICE_SUPPORTS = ['language', 'timestamp_granularities', 'include', 'text_norm'] as const

/** A request as the engine takes it, or a 400 for what SenseVoice cannot do. */
export function requestArgs(model: string, request: AsrRequest, options: SenseVoiceOptions): Omit<TranscribeArgs, 'samples'> {
  if (request.task === 'translate') {
    throw new BadRequestError(`Model '${model}' does not translate: SenseVoice transcribes only. Use /v1/audio/transcriptions.`, { param: 'model', code: 'unsupported_task' })
  }
  const language = (request.language || 'auto').toLowerCase()
  if (language !== 'auto' && !(SENSEVOICE_LANGUAGES as readonly string[]).includes(language)) {
    throw new BadRequestError(`Model '${model}' does not know language '${request.language}': use one of ${SENSEVOICE_LANGUAGES.join(', ')}, or leave it out (or 'auto') to detect it.`, {
      param: 'language',
      code: 'unsupported_value',
    })
  }
  const other = request.include?.find((item) => item !== 'raw_text')
  if (other) throw new BadRequestError(`Model '${model}' cannot include '${other}': it offers only 'raw_text'.`, { param: 'include', code: 'unsupported_value' })
  return {
    language: language as SenseVoiceLanguage | 'auto',
    itn: request.text_norm === undefined ? options.itn : request.text_norm === 'with_itn',
    wordTimestamps: request.timestamp_granularities?.includes('word') ?? false,
    rawText: request.include?.includes('raw_text') ?? false,
  }
}
