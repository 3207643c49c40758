export interface SpeechPiece {
  text: string
  /** The last piece of a sentence: a model run per sentence ends here. */
  endsSentence: boolean
}

export interface SplitSpeechOptions {
  /** For the sentence segmenter (default "en"). */
  locale?: string
  /** A clause longer than this is cut at a space before it (default 400 characters). */
  maxChars?: number
}

/** A clause ends after `,:;` (ASCII or full-width) followed by space, or after a full-width one. */
const CLAUSE_END = /(?<=[,:;])\s+|(?<=[，：；、])/u

/** Titles and abbreviations UAX #29 takes for a sentence's end ("Dr. Smith"); ICU's suppressions are not applied by the runtime. */
const ABBREVIATION = /(?:^|\s)(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|vs|etc|e\.g|i\.e|No)\.\s*$/

/** The sentences of `text`, rejoined where a break followed an abbreviation. */
function sentences(text: string, locale: string): string[] {
  const out: string[] = []
  let pending = ''
  for (const { segment } of new Intl.Segmenter(locale, { granularity: 'sentence' }).segment(text)) {
    pending += segment
    if (!ABBREVIATION.test(pending)) {
      out.push(pending)
      pending = ''
    }
  }
  if (pending) out.push(pending)
  return out
}

/** Cuts `text` into pieces of at most `max` characters, at the last space before the limit where there is one. */
function hardSplit(text: string, max: number): string[] {
  const pieces: string[] = []
  let rest = text
  while (rest.length > max) {
    const space = rest.lastIndexOf(' ', max)
    const cut = space > 0 ? space : max
    pieces.push(rest.slice(0, cut).trim())
    rest = rest.slice(cut).trim()
  }
  if (rest) pieces.push(rest)
  return pieces
}

/**
 * Text in the order it is spoken, cut small so the first piece can be synthesized (and heard) before
 * the rest: sentences by Unicode sentence segmentation (Intl.Segmenter), clauses at `,:;`, and a long
 * unpunctuated run cut at spaces, since the peers that split at punctuation only failed on such text.
 */
export function splitSpeech(text: string, options: SplitSpeechOptions = {}): SpeechPiece[] {
  const max = options.maxChars ?? 400
  const pieces: SpeechPiece[] = []
  for (const segment of sentences(text, options.locale ?? 'en')) {
    const parts = segment
      .split(CLAUSE_END)
      .flatMap((clause) => hardSplit(clause.trim(), max))
      .filter((part) => part)
    parts.forEach((part, index) => pieces.push({ text: part, endsSentence: index === parts.length - 1 }))
  }
  return pieces
}
