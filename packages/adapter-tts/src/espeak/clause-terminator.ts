/**
 * What each clause-ending mark appends and whether it ends the sentence, as piper-phonemize does it (and
 * sherpa-onnx, checked on Debian's 1.51): `.?!` append the mark and end a sentence, `,:;` and an em dash
 * append `,` `:` `;` and continue it. espeak gives the other marks clause types with extra flags
 * (readclause.c clause_type_from_codepoint) that piper-phonemize matches to no mark: full-width `。？！`
 * still end the sentence and `，、：；`, an ellipsis and the inverted `¿¡` continue it, appending nothing.
 */
const MARKS: Record<string, [terminator: string, endsSentence: boolean]> = {
  '.': ['.', true], '?': ['?', true], '!': ['!', true],
  ',': [',', false], ':': [':', false], ';': [';', false], '—': [';', false],
  '。': ['', true], '．': ['', true], '？': ['', true], '！': ['', true],
  '，': ['', false], '、': ['', false], '：': ['', false], '；': ['', false], '…': ['', false], '¿': ['', false], '¡': ['', false],
}

/** Closing quotes and brackets and spaces that can follow a clause's mark ("Quoted." → "."). */
const TRAILING = /[\s"'”’»)\]}」』）]+$/u

export interface ClauseEnd {
  /** '.', '?', '!', ',', ':', ';', or '' when the clause has nothing appended. */
  terminator: string
  endsSentence: boolean
}

/** The end of the clause whose source text is `text` (its last mark, closing quotes skipped). */
export function clauseTerminator(text: string): ClauseEnd {
  const bare = text.replace(TRAILING, '')
  // espeak reads "..." as one ellipsis.
  const mark = bare.endsWith('..') ? '…' : ([...bare].at(-1) ?? '')
  const [terminator, endsSentence] = MARKS[mark] ?? ['', false]
  return { terminator, endsSentence }
}
