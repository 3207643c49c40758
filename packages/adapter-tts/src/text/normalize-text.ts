import { toWords, toWordsOrdinal } from 'number-to-words'
import removeMarkdown from 'remove-markdown'

export interface NormalizeTextOptions {
  /** A BCP 47 tag or espeak voice ("en-us", "de"); numbers are spelled out for English only (espeak reads the rest). */
  language?: string
}

/** Pictographs, skin-tone modifiers, and the joiners and variation selectors that glue emoji sequences. */
const EMOJI = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\u{1F1E6}-\u{1F1FF}\u200d\ufe0f\u20e3]/gu

/** number-to-words reads integers exactly up to this; longer digit runs are read digit by digit. */
const MAX_DIGITS = 15

/** number-to-words writes "one thousand, two hundred": its commas would end a clause mid-number. */
const words = (digits: string) =>
  digits.length > MAX_DIGITS ? [...digits].map((d) => toWords(Number(d))).join(' ') : toWords(Number(digits)).replace(/,/g, '')

const digitByDigit = (digits: string) => [...digits].map((d) => toWords(Number(d))).join(' ')

/** English numbers to words: ordinals (21st), decimals (3.14), grouped (1,234) and plain integers, with a leading minus. */
function spellNumbers(text: string): string {
  return text
    .replace(/\b(\d+)(?:st|nd|rd|th)\b/gi, (_, n: string) => (n.length > MAX_DIGITS ? words(n) : toWordsOrdinal(Number(n)).replace(/,/g, '')))
    .replace(/\b\d{1,3}(?:,\d{3})+\b/g, (n) => n.replace(/,/g, ''))
    .replace(/(^|[\s(])-(?=\d)/g, '$1minus ')
    .replace(/\b(\d+)\.(\d+)\b/g, (_, whole: string, fraction: string) => `${words(whole)} point ${digitByDigit(fraction)}`)
    .replace(/\b\d+\b/g, words)
}

/**
 * Text as a voice should read it: markdown syntax and emoji removed (a chat model's answer is full of
 * both), numbers spelled out for English, runs of whitespace collapsed.
 */
export function normalizeText(text: string, options: NormalizeTextOptions = {}): string {
  let out = removeMarkdown(text, { gfm: true, useImgAltText: true }).replace(EMOJI, '')
  if ((options.language ?? 'en').toLowerCase().startsWith('en')) out = spellNumbers(out)
  return out.replace(/[ \t]+/g, ' ').replace(/\s*\n\s*/g, '\n').trim()
}
