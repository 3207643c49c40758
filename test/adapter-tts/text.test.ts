import { describe, expect, test } from 'bun:test'
import { normalizeText } from '../../packages/adapter-tts/src/text/normalize-text.ts'
import { splitSpeech } from '../../packages/adapter-tts/src/text/split-text.ts'

describe('normalizeText', () => {
  test('markdown syntax removed, its text kept', () => {
    expect(normalizeText('# Title\n\n**Bold** and _it_, a [link](https://x.test) and `code`.\n- one\n- two')).toBe(
      'Title\nBold and it, a link and code.\none\ntwo',
    )
  })

  test('emoji removed, with their modifiers, joiners and flags', () => {
    expect(normalizeText('Great 😀 job 👍🏽 team 👨‍👩‍👧 from 🇺🇸!')).toBe('Great job team from !')
  })

  test('English numbers spelled out: integers, grouped, negative, decimals, ordinals', () => {
    expect(normalizeText('In 2024, 1,234 people; -5 degrees; pi is 3.14; the 1st, 22nd and 103rd.')).toBe(
      'In two thousand twenty-four, one thousand two hundred thirty-four people; minus five degrees; pi is three point one four; the first, twenty-second and one hundred third.',
    )
  })

  test('a spelled-out number has no comma of its own (it would cut the clause)', () => {
    expect(normalizeText('1234567')).toBe('one million two hundred thirty-four thousand five hundred sixty-seven')
  })

  test('a digit run too long to read as a number is read digit by digit', () => {
    expect(normalizeText('1234567890123456')).toBe('one two three four five six seven eight nine zero one two three four five six')
  })

  test('other languages keep their digits (espeak reads them in the voice language)', () => {
    expect(normalizeText('Ich habe 3 Äpfel 🍎', { language: 'de' })).toBe('Ich habe 3 Äpfel')
  })
})

describe('splitSpeech', () => {
  test('sentences, then clauses at ,:; with endsSentence on each sentence\'s last piece', () => {
    expect(splitSpeech('Hello world. How are you? Fine, thanks: really; yes!')).toEqual([
      { text: 'Hello world.', endsSentence: true },
      { text: 'How are you?', endsSentence: true },
      { text: 'Fine,', endsSentence: false },
      { text: 'thanks:', endsSentence: false },
      { text: 'really;', endsSentence: false },
      { text: 'yes!', endsSentence: true },
    ])
  })

  test('a title abbreviation does not end the sentence; decimals and times do not cut clauses', () => {
    expect(splitSpeech('Dr. Smith met Mr. Jones at 3,5 or 10:30. OK.')).toEqual([
      { text: 'Dr. Smith met Mr. Jones at 3,5 or 10:30.', endsSentence: true },
      { text: 'OK.', endsSentence: true },
    ])
  })

  test('a long unpunctuated run is cut at spaces, each piece within the limit', () => {
    const text = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ')
    const pieces = splitSpeech(text, { maxChars: 80 })
    expect(pieces.length).toBeGreaterThan(5)
    for (const piece of pieces) expect(piece.text.length).toBeLessThanOrEqual(80)
    expect(pieces.map((p) => p.text).join(' ')).toBe(text)
    expect(pieces.map((p) => p.endsSentence)).toEqual([...Array(pieces.length - 1).fill(false), true])
  })

  test('a run with no space at all is cut at the limit', () => {
    expect(splitSpeech('x'.repeat(25), { maxChars: 10 }).map((p) => p.text)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)])
  })

  test('full-width punctuation and paragraphs', () => {
    expect(splitSpeech('你好，世界。今天好吗？', { locale: 'zh' }).map((p) => p.text)).toEqual(['你好，', '世界。', '今天好吗？'])
    expect(splitSpeech('Title\nBody text.').map((p) => p.text)).toEqual(['Title', 'Body text.'])
  })

  test('empty and blank text give no pieces', () => {
    expect(splitSpeech('')).toEqual([])
    expect(splitSpeech('  \n ')).toEqual([])
  })
})
