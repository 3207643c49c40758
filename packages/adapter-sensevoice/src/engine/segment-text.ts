/** Scripts written without spaces between words: no space is put where two segments meet. */
const UNSPACED = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef。，、！？]/u

/** A segment's text as it joins the transcript: a space before it where the previous one ended a word of a spaced script. */
export function segmentText(previous: string, text: string): string {
  if (!previous || UNSPACED.test(previous.at(-1)!) || UNSPACED.test(text[0]!)) return text
  return ` ${text}`
}
