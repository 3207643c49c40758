import { isolationOption, type Isolation } from '@cy/core'
import { integerOption } from '@cy/native'
import { providersOption, type OnnxProvider } from '@cy/onnx'

/** OpenAI's voice names: clients that hard-code them get one of the model's own voices (see `voiceAliases`). */
export const OPENAI_VOICES = ['alloy', 'echo', 'fable', 'onyx', 'nova', 'shimmer', 'ash', 'ballad', 'coral', 'sage', 'verse'] as const

/** Per-model options, from the model's `options` in the config (and the adapter's defaults). */
export interface TtsOptions {
  /** onnxruntime's intra-op threads (default: half the cores). */
  threads?: number
  /** Execution providers to try, best first (default: CUDA where present, CoreML on macOS, then CPU). */
  providers?: OnnxProvider[]
  /** Where the session runs: a child process of its own (default), or a Worker of the server's process. */
  isolation: Isolation
  /** OpenAI voice name (or any name) → a voice of this model; OpenAI's names not given go to the model's first voice. */
  voiceAliases: Record<string, string>
  /** The espeak-ng library (default: `CY_ESPEAK_LIB`, then `libespeak-ng.so.1` on the loader path). */
  espeakLib?: string
  /** espeak-ng's data folder (default: `ESPEAK_DATA_PATH`, then where the library expects it). */
  espeakData?: string
  /** Silence after a sentence, in ms at speed 1 (default 250); divided by the speed. */
  sentencePauseMs: number
  /** Silence after a clause sent on its own (the first one, a hard split), in ms at speed 1 (default 120). */
  clausePauseMs: number
  /** The longest input in characters (default 4096, OpenAI's cap, which the request schema also sets). */
  maxInputChars: number
}

const integer = (value: unknown, name: string, min: number) => integerOption(value, 'tts', name, min)
const text = (value: unknown, name: string): string | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') throw new Error(`tts option '${name}' must be a path, not ${JSON.stringify(value)}`)
  return value
}

function aliases(raw: unknown): Record<string, string> {
  if (raw === undefined) return {}
  const valid = typeof raw === 'object' && raw !== null && !Array.isArray(raw) && Object.values(raw).every((v) => typeof v === 'string' && v !== '')
  if (!valid) throw new Error(`tts option 'voiceAliases' must map voice names to voices of the model ({ "alloy": "en_US-amy-medium" }), not ${JSON.stringify(raw)}`)
  return { ...(raw as Record<string, string>) }
}

export function parseTtsOptions(raw: Record<string, unknown> = {}): TtsOptions {
  const options: TtsOptions = {
    isolation: isolationOption(raw.isolation, 'tts', 'process'),
    voiceAliases: aliases(raw.voiceAliases),
    sentencePauseMs: integer(raw.sentencePauseMs, 'sentencePauseMs', 0) ?? 250,
    clausePauseMs: integer(raw.clausePauseMs, 'clausePauseMs', 0) ?? 120,
    maxInputChars: integer(raw.maxInputChars, 'maxInputChars', 1) ?? 4096,
  }
  const threads = integer(raw.threads, 'threads', 1)
  if (threads !== undefined) options.threads = threads
  const espeakLib = text(raw.espeakLib, 'espeakLib')
  if (espeakLib !== undefined) options.espeakLib = espeakLib
  const espeakData = text(raw.espeakData, 'espeakData')
  if (espeakData !== undefined) options.espeakData = espeakData
  const providers = providersOption(raw.providers, 'tts')
  if (providers) options.providers = providers
  return options
}
