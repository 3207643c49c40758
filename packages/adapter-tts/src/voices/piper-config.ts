import { TtsModelError } from './tts-model-error.ts'

/** What a Piper voice's `.onnx.json` says that synthesis needs (rhasspy/piper config.py). */
export interface PiperConfig {
  sampleRate: number
  /** espeak-ng's voice for the phonemes ("en-us"). */
  espeakVoice: string
  noiseScale: number
  lengthScale: number
  noiseW: number
  /** Phoneme (one NFD codepoint, or `^ _ $`) → ids. */
  phonemeIdMap: Record<string, number[]>
  /** Speaker name → sid, in sid order; empty for a single-speaker voice. */
  speakers: Record<string, number>
  numSpeakers: number
  /** The language's code as the voice names it ("en_US"), for the voice list. */
  language: string
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const num = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) ? value : fallback)

/** Parses a `.onnx.json`; a voice this adapter cannot phonemize (phoneme_type text, pinyin...) is an error. */
export function parsePiperConfig(text: string, path: string): PiperConfig {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new TtsModelError(`${path}: not JSON (${(error as Error).message})`)
  }
  if (!isObject(json)) throw new TtsModelError(`${path}: not a Piper voice config (an object expected)`)
  const type = json.phoneme_type ?? 'espeak'
  if (type !== 'espeak') throw new TtsModelError(`${path}: phoneme_type '${String(type)}' is not supported (only espeak voices)`)
  const audio = isObject(json.audio) ? json.audio : {}
  // sherpa-onnx's add_meta_data.py fixes this typo of some voices.
  const rate = audio.sample_rate === 22500 ? 22050 : audio.sample_rate
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate <= 0) throw new TtsModelError(`${path}: no audio.sample_rate`)
  const map = json.phoneme_id_map
  if (!isObject(map) || !Object.values(map).every((ids) => Array.isArray(ids) && ids.every(Number.isInteger))) {
    throw new TtsModelError(`${path}: no phoneme_id_map (phoneme → [ids])`)
  }
  for (const symbol of ['^', '_', '$']) if (!map[symbol]) throw new TtsModelError(`${path}: phoneme_id_map lacks '${symbol}'`)
  const espeak = isObject(json.espeak) ? json.espeak : {}
  const inference = isObject(json.inference) ? json.inference : {}
  const speakerMap = isObject(json.speaker_id_map) ? json.speaker_id_map : {}
  const speakers = Object.fromEntries(Object.entries(speakerMap).filter((entry): entry is [string, number] => Number.isInteger(entry[1])).sort((a, b) => a[1] - b[1]))
  const numSpeakers = num(json.num_speakers, Math.max(1, Object.keys(speakers).length))
  const language = isObject(json.language) && typeof json.language.code === 'string' ? json.language.code : undefined
  const espeakVoice = typeof espeak.voice === 'string' && espeak.voice ? espeak.voice : 'en-us'
  return {
    sampleRate: rate,
    espeakVoice,
    noiseScale: num(inference.noise_scale, 0.667),
    lengthScale: num(inference.length_scale, 1),
    noiseW: num(inference.noise_w, 0.8),
    phonemeIdMap: map as Record<string, number[]>,
    speakers,
    numSpeakers,
    language: language ?? espeakVoice,
  }
}
