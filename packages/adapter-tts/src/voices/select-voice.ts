import { BadRequestError } from '@cy/core'
import { OPENAI_VOICES } from '../tts-options.ts'
import type { VoiceChoice, VoiceEntry } from './voice-entry.ts'

/** `af_bella(2)+af_sky(1)`: the names and weights of a Kokoro mix (weight 1 where none is given). */
export function parseVoiceMix(voice: string): Array<{ name: string; weight: number }> | undefined {
  const parts = voice.split('+').map((part) => /^\s*([^()+\s]+)\s*(?:\(\s*(\d+(?:\.\d+)?)\s*\))?\s*$/.exec(part))
  if (parts.some((part) => part === null)) return undefined
  return parts.map((part) => ({ name: part![1]!, weight: part![2] === undefined ? 1 : Number(part![2]) }))
}

/** Where an alias (or one of OpenAI's names no voice is called) leads: the configured voice, else the model's first. */
export function aliasTarget(voice: string, voices: readonly VoiceEntry[], aliases: Record<string, string>): string {
  if (aliases[voice] !== undefined) return aliases[voice]
  if ((OPENAI_VOICES as readonly string[]).includes(voice) && !voices.some((entry) => entry.id === voice)) return voices[0]!.id
  return voice
}

/**
 * The voice a request names: one of the model's voices (a Piper voice's speaker), an alias, or (Kokoro) a
 * weighted mix; anything else is a 400 that lists the voices.
 */
export function selectVoice(model: string, requested: string, kind: 'piper' | 'kokoro', voices: readonly VoiceEntry[], aliases: Record<string, string>): { choice: VoiceChoice; language: string } {
  const voice = aliasTarget(requested, voices, aliases)
  const unknown = (what: string) =>
    new BadRequestError(
      `Model '${model}' has no voice ${what}: its voices are ${voices.map((entry) => entry.id).join(', ')}` +
        `${kind === 'kokoro' ? " (or a mix such as 'a(2)+b(1)')" : ''}; OpenAI's names (${OPENAI_VOICES.join(', ')}) map to ${voices[0]!.id} unless the config maps them.`,
      { param: 'voice', code: 'unsupported_value' },
    )
  const index = (name: string) => voices.findIndex((entry) => entry.id === name)
  if (kind === 'piper') {
    const entry = voices[index(voice)]
    if (!entry) throw unknown(`'${requested}'`)
    return { choice: { kind: 'piper', sid: entry.sid ?? 0 }, language: entry.language }
  }
  const mix = parseVoiceMix(voice)
  if (!mix) throw unknown(`'${requested}'`)
  const missing = mix.find((part) => index(part.name) < 0)
  if (missing) throw unknown(`'${missing.name}'${mix.length > 1 ? ` (in '${requested}')` : ''}`)
  const total = mix.reduce((sum, part) => sum + part.weight, 0)
  if (!(total > 0)) throw new BadRequestError(`Voice '${requested}': the weights of a mix must add up to more than 0`, { param: 'voice', code: 'unsupported_value' })
  return {
    choice: { kind: 'kokoro', mix: mix.map((part) => ({ index: index(part.name), weight: part.weight / total })) },
    language: voices[index(mix[0]!.name)]!.language,
  }
}
