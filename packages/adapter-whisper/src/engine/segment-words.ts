import type { NativeToken } from '../native/whisper-native.ts'

/** Tokens to words: a token that starts with a space starts a new word; timestamps span its tokens. */
export function segmentWords(tokens: NativeToken[]): Array<{ word: string; start: number; end: number }> {
  const words: Array<{ word: string; start: number; end: number }> = []
  for (const token of tokens) {
    const last = words.at(-1)
    if (last && !token.text.startsWith(' ')) {
      last.word += token.text
      last.end = token.end
    } else if (token.text.trim()) {
      words.push({ word: token.text, start: token.start, end: token.end })
    }
  }
  return words.map((w) => ({ ...w, word: w.word.trim() })).filter((w) => w.word.length > 0)
}
