import type { CtcHit } from './ctc-greedy.ts'
import { pieceUnits } from './piece-units.ts'
import { classifyTag, isTagPiece } from './rich-tags.ts'
import { wordsFromTokens, type TimedToken, type TimedWord } from './words-from-tokens.ts'

export interface SenseVoiceDecoding {
  /** zh, en, ja, ko, yue or nospeech. */
  language?: string
  /** happy, sad, angry, neutral, fearful, disgusted, surprised or unknown. */
  emotion?: string
  /** Speech, BGM, Applause, Laughter, Cry, Sneeze, Breath, Cough, Sing, Speech_Noise or Event_UNK. */
  event?: string
  /** Whether the model was asked for inverse text normalisation (punctuation, digits). */
  itn?: boolean
  /** The transcript: no tags, trimmed. */
  text: string
  /** Everything the model emitted, tags included, trimmed. */
  rawText: string
  tokens: TimedToken[]
  words: TimedWord[]
}

export interface DecodeTiming {
  /** Seconds per output frame: 10 ms × lfr_window_shift (0.06 for SenseVoice). */
  frameShift?: number
  /** Output frames taken by the prompt (language, event/emotion query, text norm): 4. */
  promptFrames?: number
  /** Where the last word ends, in seconds (the segment's duration); default: one frame after the last token. */
  end?: number
}

/**
 * SenseVoice's CTC hits → tags, text, timed tokens and words. The leading `<|…|>` tokens are classified by which
 * tag set they belong to, not by position, so a tag that CTC merged or blanked does not shift the others into the
 * wrong field (sherpa-onnx takes tokens 0, 1, 2 blindly). A token's start is (frame − promptFrames) × frameShift,
 * as sherpa-onnx computes it (offline-recognizer-sense-voice-impl.h ConvertSenseVoiceResult).
 */
export function decodeSenseVoice(hits: readonly CtcHit[], symbols: ReadonlyArray<string | undefined>, timing: DecodeTiming = {}): SenseVoiceDecoding {
  const frameShift = timing.frameShift ?? 0.06
  const promptFrames = timing.promptFrames ?? 4
  const units = pieceUnits(hits, symbols)
  const result: SenseVoiceDecoding = { text: '', rawText: units.map((unit) => unit.text).join('').trim(), tokens: [], words: [] }
  let leading = true
  for (const unit of units) {
    const tag = isTagPiece(unit.text) ? classifyTag(unit.text) : undefined
    if (leading && isTagPiece(unit.text)) {
      if (tag?.kind === 'language') result.language ??= tag.value
      else if (tag?.kind === 'emotion') result.emotion ??= tag.value
      else if (tag?.kind === 'event') result.event ??= tag.value
      else if (tag?.kind === 'itn') result.itn ??= tag.value
      continue
    }
    leading = false
    // A known tag after the text began is still not text (rawText keeps it).
    if (tag) continue
    const start = Math.round(Math.max(0, unit.frame - promptFrames) * frameShift * 1000) / 1000
    result.tokens.push({ text: unit.text, start })
  }
  result.text = result.tokens.map((token) => token.text).join('').trim()
  const last = result.tokens.at(-1)
  const end = timing.end ?? (last ? last.start + frameShift : 0)
  result.words = wordsFromTokens(result.tokens, end)
  return result
}
