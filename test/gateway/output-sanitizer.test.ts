import { OutputSanitizer, sanitizeText } from '@cy/gateway'
import { describe, expect, test } from 'bun:test'

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

  test('repairs common tag typos', () => {
    expect(sanitizeText('< /answer> </ answer> <answer > <<answer> <answer>> </answer>>')).toBe('</answer> </answer> <answer> <answer> <answer> </answer>')
    // Comparisons and other non-tags are left alone.
    expect(sanitizeText('1 < 2 and 3 > 2, a<<b')).toBe('1 < 2 and 3 > 2, a<<b')
  })

  test('gives the same result however the text is split', () => {
    const text = 'ok\u0001 < /result> and <<tag>> done\u0002 <x >'
    const whole = sanitizeText(text)
    expect(whole).toBe('ok </result> and <tag> done <x>')
    for (const size of [1, 2, 3, 7]) expect(streamed(text, size)).toBe(whole)
  })
})
