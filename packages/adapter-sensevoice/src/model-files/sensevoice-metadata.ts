import { SenseVoiceModelError } from './sensevoice-model-error.ts'

export const SENSEVOICE_LANGUAGES = ['zh', 'en', 'ja', 'ko', 'yue'] as const
export type SenseVoiceLanguage = (typeof SENSEVOICE_LANGUAGES)[number]

/** What sherpa-onnx's SenseVoice export writes in the model's metadata, typed (see speech-engines.md A2). */
export interface SenseVoiceMetadata {
  vocabSize: number
  blankId: number
  lfrWindowSize: number
  lfrWindowShift: number
  /** 0: samples are scaled by 32768 before the fbank, as Kaldi expects. */
  normalizeSamples: number
  /** The `text_norm` prompt ids. */
  withItn: number
  withoutItn: number
  /** The `language` prompt id of each language, and of auto-detection. */
  languages: Record<SenseVoiceLanguage | 'auto', number>
  /** CMVN: y = (x + negMean[d]) · invStddev[d], d over the lfrWindowSize × 80 feature dimensions. */
  negMean: Float32Array
  invStddev: Float32Array
}

/** True when the metadata looks like a SenseVoice export (its type, or the keys only it writes). */
export function isSenseVoiceMetadata(props: Record<string, string>): boolean {
  if (props.model_type?.startsWith('sense_voice')) return true
  return 'vocab_size' in props && 'lfr_window_size' in props && 'lang_auto' in props
}

export function parseSenseVoiceMetadata(props: Record<string, string>, file: string): SenseVoiceMetadata {
  const missing: string[] = []
  const integer = (key: string, fallback?: number): number => {
    const raw = props[key]
    if (raw === undefined) {
      if (fallback === undefined) missing.push(key)
      return fallback ?? 0
    }
    const value = Number(raw)
    if (!Number.isInteger(value)) throw new SenseVoiceModelError(`${file}: metadata '${key}' is not an integer (${JSON.stringify(raw)})`)
    return value
  }
  const floats = (key: string): Float32Array => {
    const raw = props[key]
    if (raw === undefined) {
      missing.push(key)
      return new Float32Array()
    }
    const values = Float32Array.from(raw.split(',').map(Number))
    if (values.some((v) => !Number.isFinite(v))) throw new SenseVoiceModelError(`${file}: metadata '${key}' is not a list of numbers`)
    return values
  }
  if (props.comment?.includes('Nano')) throw new SenseVoiceModelError(`${file}: a FunASR-Nano model, which this adapter does not run`)
  const meta: SenseVoiceMetadata = {
    vocabSize: integer('vocab_size'),
    blankId: integer('blank_id', 0),
    lfrWindowSize: integer('lfr_window_size', 7),
    lfrWindowShift: integer('lfr_window_shift', 6),
    normalizeSamples: integer('normalize_samples', 0),
    withItn: integer('with_itn', 14),
    withoutItn: integer('without_itn', 15),
    languages: {
      auto: integer('lang_auto'),
      zh: integer('lang_zh'),
      en: integer('lang_en'),
      ja: integer('lang_ja'),
      ko: integer('lang_ko'),
      yue: integer('lang_yue'),
    },
    negMean: floats('neg_mean'),
    invStddev: floats('inv_stddev'),
  }
  if (missing.length) throw new SenseVoiceModelError(`${file}: the SenseVoice metadata lacks ${missing.join(', ')} (export it with sherpa-onnx's scripts/sense-voice/export-onnx.py)`)
  const dims = meta.lfrWindowSize * 80
  for (const [key, values] of [['neg_mean', meta.negMean], ['inv_stddev', meta.invStddev]] as const) {
    if (values.length !== dims) throw new SenseVoiceModelError(`${file}: metadata '${key}' has ${values.length} values, not ${dims} (80 mel bins × lfr_window_size ${meta.lfrWindowSize})`)
  }
  return meta
}
