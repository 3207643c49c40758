import type { PhonemeClause } from '../piper/piper-ids.ts'

/** Kokoro's vocabulary (config.json "vocab", or sherpa-onnx's tokens.txt): symbol → id, 0 being the pad. */
export type KokoroVocab = Record<string, number>

/** The most tokens a Kokoro run takes besides its two pads (its voice files hold 510 style rows). */
export const KOKORO_MAX_TOKENS = 510

/** A sentence's phonemes as Kokoro reads them: espeak's IPA with the punctuation kept, a space after each mark. */
export function kokoroPhonemes(clauses: readonly Pick<PhonemeClause, 'phonemes' | 'terminator'>[]): string {
  return clauses
    .map((c) => `${c.phonemes}${c.terminator}`)
    .join(' ')
    .trim()
}

/** The ids of `phonemes`, one per character, unknown ones dropped, each with the character it came from. */
function mapped(phonemes: string, vocab: KokoroVocab): Array<[symbol: string, id: number]> {
  const out: Array<[string, number]> = []
  for (const symbol of phonemes) {
    const id = vocab[symbol]
    if (id !== undefined) out.push([symbol, id])
  }
  return out
}

/**
 * Kokoro's inputs for `phonemes`, each `[0, ...ids, 0]` with at most `max` ids: a longer string is cut
 * at its last space within the limit (anywhere when a run has none), the space itself dropped.
 */
export function kokoroTokenChunks(phonemes: string, vocab: KokoroVocab, max = KOKORO_MAX_TOKENS): number[][] {
  const chunks: number[][] = []
  let rest = mapped(phonemes, vocab)
  while (rest.length > max) {
    const space = rest.slice(0, max + 1).findLastIndex(([symbol]) => symbol === ' ')
    const cut = space > 0 ? space : max
    chunks.push(rest.slice(0, cut).map(([, id]) => id))
    rest = rest.slice(space > 0 ? cut + 1 : cut)
  }
  if (rest.length || !chunks.length) chunks.push(rest.map(([, id]) => id))
  return chunks.map((ids) => [0, ...ids, 0])
}

/** Kokoro's input for `phonemes` that fit one run; a longer string is refused (split it with kokoroTokenChunks). */
export function kokoroTokens(phonemes: string, vocab: KokoroVocab): number[] {
  const chunks = kokoroTokenChunks(phonemes, vocab)
  if (chunks.length > 1) throw new RangeError(`${phonemes.length} phonemes exceed Kokoro's ${KOKORO_MAX_TOKENS} tokens a run`)
  return chunks[0] ?? [0, 0]
}
