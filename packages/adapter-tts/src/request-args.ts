import { BadRequestError, type SpeechRequest } from '@cy/core'
import type { EngineInfo, SpeakArgs } from './engine/speak-args.ts'
import type { TtsOptions } from './tts-options.ts'
import { selectVoice } from './voices/select-voice.ts'

/**
 * The optional speech fields each model family honours; the server refuses any other with 400
 * `unsupported_parameter`. `instructions` is accepted and ignored (the HTTP layer says so in a header).
 */
export const TTS_SUPPORTS = {
  piper: ['speed', 'instructions', 'language', 'sample_rate', 'noise_scale', 'noise_w'],
  kokoro: ['speed', 'instructions', 'language', 'sample_rate'],
} as const

/** The languages Kokoro's English voices speak through espeak-ng (its other voices need other G2P). */
const KOKORO_LANGUAGES = ['en-us', 'en-gb']
const RATES = { min: 8000, max: 48_000 }

type Extensions = { language?: unknown; sample_rate?: unknown; noise_scale?: unknown; noise_w?: unknown }

function noise(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 2) throw new BadRequestError(`'${param}' must be a number from 0 to 2`, { param, code: 'invalid_value' })
  return value
}

/** A request as the engine takes it, or a 400 for what the model cannot do. */
export function requestArgs(model: string, request: SpeechRequest, options: TtsOptions, info: EngineInfo): SpeakArgs {
  const extra = request as SpeechRequest & Extensions
  if (request.input.length > options.maxInputChars) {
    throw new BadRequestError(`Model '${model}' takes at most ${options.maxInputChars} characters of input, not ${request.input.length}`, { param: 'input', code: 'string_above_max_length' })
  }
  const selected = selectVoice(model, request.voice, info.kind, info.voices, options.voiceAliases)
  let language = selected.language
  if (extra.language !== undefined && extra.language !== null && extra.language !== '') {
    const wanted = String(extra.language).toLowerCase()
    if (info.kind === 'kokoro' ? !KOKORO_LANGUAGES.includes(wanted) : !/^[a-z]{2,3}(-[a-z0-9]+)*$/.test(wanted)) {
      const allowed = info.kind === 'kokoro' ? `one of ${KOKORO_LANGUAGES.join(', ')}` : "an espeak-ng voice ('en-us', 'de', 'fr-fr')"
      throw new BadRequestError(`Model '${model}' cannot speak language '${String(extra.language)}': use ${allowed}`, { param: 'language', code: 'unsupported_value' })
    }
    language = wanted
  }
  const args: SpeakArgs = { input: request.input, voice: selected.choice, language, speed: request.speed ?? 1, sentencePauseMs: options.sentencePauseMs, clausePauseMs: options.clausePauseMs }
  const rate = extra.sample_rate
  if (rate !== undefined && rate !== null) {
    if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < RATES.min || rate > RATES.max) {
      throw new BadRequestError(`'sample_rate' must be a whole number of Hz from ${RATES.min} to ${RATES.max}`, { param: 'sample_rate', code: 'invalid_value' })
    }
    if (rate !== info.sampleRate) args.sampleRate = rate
  }
  const noiseScale = noise(extra.noise_scale, 'noise_scale')
  const noiseW = noise(extra.noise_w, 'noise_w')
  if (noiseScale !== undefined) args.noiseScale = noiseScale
  if (noiseW !== undefined) args.noiseW = noiseW
  return args
}
