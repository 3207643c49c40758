/** A timed token of decoded text (start in seconds). */
export interface TimedToken {
  text: string
  start: number
}

export interface TimedWord {
  word: string
  start: number
  end: number
}

// Han, kana and CJK compatibility ideographs: scripts written without spaces, so each character is a word.
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u
const PUNCTUATION = /[\p{P}\p{S}]/u

/**
 * Words from timed tokens: a token starting with a space (sentencepiece "▁") starts a word; pieces without one
 * continue it; each CJK character is a word of its own (punctuation after it stays attached). A word ends where
 * the next one starts, the last at `end`. A token holding several characters spreads them evenly over its span (spaces take no time).
 */
export function wordsFromTokens(tokens: readonly TimedToken[], end: number): TimedWord[] {
  const words: TimedWord[] = []
  let current: { word: string; start: number } | undefined
  let afterCjk = false
  const close = () => {
    if (current && current.word !== '') words.push({ word: current.word, start: current.start, end: 0 })
    current = undefined
  }
  tokens.forEach((token, t) => {
    const chars = [...token.text]
    const span = Math.max(0, (tokens[t + 1]?.start ?? end) - token.start)
    const visible = chars.filter((char) => !/\s/u.test(char)).length
    let seen = 0
    chars.forEach((char) => {
      const at = token.start + (span * seen) / Math.max(1, visible)
      if (/\s/u.test(char)) {
        close()
        afterCjk = false
        return
      }
      const cjk = CJK.test(char)
      if (cjk || (afterCjk && !PUNCTUATION.test(char))) close()
      current ??= { word: '', start: round(at) }
      current.word += char
      seen++
      afterCjk = cjk || (afterCjk && PUNCTUATION.test(char))
    })
  })
  close()
  for (let i = 0; i < words.length; i++) words[i]!.end = words[i + 1]?.start ?? Math.max(round(end), words[i]!.start)
  return words
}

const round = (seconds: number) => Math.round(seconds * 1000) / 1000
