import { feedsFor, readOnnxMetadata } from '@cy/onnx'
import type { PhonemizedClause } from '../espeak/espeak-phonemizer.ts'
import { kokoroPhonemes, kokoroTokenChunks } from '../kokoro/kokoro-tokens.ts'
import { readKokoroVocab } from '../voices/kokoro-vocab.ts'
import { KOKORO_STYLE_DIM, KOKORO_STYLE_ROWS, readKokoroVoices, type KokoroVoice } from '../voices/kokoro-voices.ts'
import { TtsModelError } from '../voices/tts-model-error.ts'
import { kokoroVoiceLanguage, type VoiceChoice, type VoiceEntry } from '../voices/voice-entry.ts'
import type { SpeakArgs } from './speak-args.ts'
import { runToSamples, type Session, type Synthesizer } from './synthesizer.ts'

const KOKORO_SAMPLE_RATE = 24_000

/** The style for `tokens` ids (with their two pads): each voice's row at the count of real tokens (clamped to 0..509), mixed by weight. */
export function mixedStyle(voices: readonly KokoroVoice[], choice: VoiceChoice, tokens: number): Float32Array {
  const row = Math.min(KOKORO_STYLE_ROWS - 1, Math.max(0, tokens - 2))
  const style = new Float32Array(KOKORO_STYLE_DIM)
  const mix = choice.kind === 'kokoro' ? choice.mix : [{ index: 0, weight: 1 }]
  for (const { index, weight } of mix) {
    const table = voices[index]!.styles
    for (let i = 0; i < KOKORO_STYLE_DIM; i++) style[i]! += weight * table[row * KOKORO_STYLE_DIM + i]!
  }
  return style
}

/** Kokoro v1.0: `tokens` (or `input_ids`), a `style` row of the voice, and `speed` → 24 kHz audio. */
export class KokoroSynthesizer implements Synthesizer {
  readonly kind = 'kokoro'
  readonly voices: VoiceEntry[]

  private constructor(
    readonly session: Session,
    readonly styles: KokoroVoice[],
    readonly vocab: Record<string, number>,
    readonly sampleRate: number,
  ) {
    this.voices = styles.map((voice) => ({ id: voice.name, name: voice.name, language: kokoroVoiceLanguage(voice.name) }))
  }

  static async create(session: Session, files: { model: string; voices: string; vocab?: string }): Promise<KokoroSynthesizer> {
    if (!files.vocab) throw new TtsModelError(`${files.model}: Kokoro's vocabulary is missing: put its tokens.txt (sherpa-onnx) or config.json (with "vocab") beside it`)
    const metadata = await readOnnxMetadata(files.model)
    const rate = Number(metadata.sample_rate)
    const voices = await readKokoroVoices(files.voices, metadata)
    return new KokoroSynthesizer(session, voices, await readKokoroVocab(files.vocab), Number.isInteger(rate) && rate > 0 ? rate : KOKORO_SAMPLE_RATE)
  }

  /** At most 510 tokens a run: longer phonemes run in pieces cut at spaces, their audio joined. */
  async synthesize(clauses: PhonemizedClause[], args: SpeakArgs): Promise<{ samples: Float32Array; ids: number[] }> {
    const tokens = this.session.inputNames.includes('tokens') ? 'tokens' : 'input_ids'
    const parts: Float32Array[] = []
    const fed: number[] = []
    for (const ids of kokoroTokenChunks(kokoroPhonemes(clauses), this.vocab)) {
      const feeds = feedsFor(this.session, {
        [tokens]: { data: ids, dims: [1, ids.length] },
        style: { data: mixedStyle(this.styles, args.voice, ids.length), dims: [1, KOKORO_STYLE_DIM] },
        // Its dtype (float32, or int32 in one export) comes from the graph.
        speed: { data: [args.speed], dims: [1] },
      })
      parts.push(await runToSamples(this.session, feeds))
      fed.push(...ids)
    }
    return { samples: parts.length === 1 ? parts[0]! : concat(parts), ids: fed }
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
