import { OutputSanitizer, sanitizeText } from '@cy/gateway'
import { describe, expect, test } from 'bun:test'
import { ALL_CODE, CODE_SAMPLES } from './code-samples.ts'

function streamed(text: string, size: number): string {
  const sanitizer = new OutputSanitizer()
  let out = ''
  for (let i = 0; i < text.length; i += size) out += sanitizer.push(text.slice(i, i + size))
  return out + sanitizer.flush()
}

describe('the output sanitizer', () => {
  test('strips control characters and lone surrogates, keeps tabs, newlines and emoji', () => {
    expect(sanitizeText('a\u0000b\u0007c\u001b[31md\u007f\u0085e\tf\r\ng 🦊 \uD800h')).toBe('abc[31mde\tf\r\ng 🦊 h')
  })

  test('keeps the white space source files hold: form feeds (page breaks) and vertical tabs', () => {
    const source = '/* page one */\n\f\n/* page two */\vend'
    expect(sanitizeText(source)).toBe(source)
    expect(streamed(source, 1)).toBe(source)
  })

  test('never rewrites markup: code in C++, Rust, Java and shell comes out byte-identical in one-character deltas', () => {
    for (const [language, code] of Object.entries(CODE_SAMPLES)) {
      expect([language, sanitizeText(code)]).toEqual([language, code])
      for (const size of [1, 2, 3, 7]) expect([language, size, streamed(code, size)]).toEqual([language, size, code])
    }
    expect(streamed(ALL_CODE, 1)).toBe(ALL_CODE)
  })

  test('a surrogate pair split across deltas is kept; a lone one is dropped however the text is split', () => {
    const text = 'ok\u0001 🦊 done\u0002 \uDC00x'
    for (const size of [1, 2, 3, 7]) expect(streamed(text, size)).toBe('ok 🦊 done x')
    expect(streamed('end \uD83E', 1)).toBe('end ')
  })
})
