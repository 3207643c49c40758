/** A clause as the phonemizer gives it (see EspeakPhonemizer). */
export interface PhonemeClause {
  phonemes: string
  /** '.', '?', '!', ',', ':', ';' or ''. */
  terminator: string
  endsSentence: boolean
}

/** A Piper voice's `phoneme_id_map`: each symbol's ids (arrays in the .onnx.json). */
export type PhonemeIdMap = Record<string, readonly number[]>

/** `,:;` continue the sentence: piper-phonemize appends the mark and a space. */
const CONTINUING = new Set([',', ':', ';'])

/** The clauses grouped into sentences: one Piper run each. */
export function groupSentences<T extends { endsSentence: boolean }>(clauses: readonly T[]): T[][] {
  const sentences: T[][] = []
  let current: T[] = []
  for (const clause of clauses) {
    current.push(clause)
    if (clause.endsSentence) {
      sentences.push(current)
      current = []
    }
  }
  if (current.length) sentences.push(current)
  return sentences
}

/** One sentence's phoneme string as Piper sees it: each clause's IPA, then its mark (and a space after `,:;`). */
export function piperPhonemes(clauses: readonly Pick<PhonemeClause, 'phonemes' | 'terminator'>[]): string {
  return clauses.map((c) => `${c.phonemes}${c.terminator}${CONTINUING.has(c.terminator) ? ' ' : ''}`).join('')
}

/**
 * One sentence's Piper ids: `^ _ (p _)* $` over the NFD codepoints of its phonemes, a symbol missing
 * from the map skipped with its pad (piper1 phoneme_ids.py, piper-phonemize, sherpa-onnx all agree).
 */
export function piperIds(clauses: readonly Pick<PhonemeClause, 'phonemes' | 'terminator'>[], phonemeIdMap: PhonemeIdMap): number[] {
  const id = (symbol: string, fallback: number) => phonemeIdMap[symbol] ?? [fallback]
  const pad = id('_', 0)
  const ids = [...id('^', 1), ...pad]
  for (const symbol of piperPhonemes(clauses).normalize('NFD')) {
    const mapped = phonemeIdMap[symbol]
    if (mapped) ids.push(...mapped, ...pad)
  }
  ids.push(...id('$', 2))
  return ids
}
