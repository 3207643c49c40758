/** Pieces of GBNF text the grammar builders share. */

/** Characters a JSON string may hold unescaped, one code point at a time. */
export const JSON_CHAR = String.raw`[^"\\\x7F\x00-\x1F]`

/** One character of a JSON string's content: unescaped, or an escape. */
export const STRING_CHAR = String.raw`( ${JSON_CHAR} | "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) )`

/** A GBNF string literal producing `text` exactly. */
export const gbnfLiteral = (text: string) => JSON.stringify(text)

/** A GBNF literal for the JSON text of `value`: '"a"' becomes "\"a\"". */
export const jsonLiteral = (value: unknown) => gbnfLiteral(JSON.stringify(value))

/** A code point as it goes inside a GBNF character class: letters and digits as they are, the rest escaped. */
export function classChar(code: number): string {
  if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) return String.fromCodePoint(code)
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`
  return `\\U${code.toString(16).padStart(8, '0')}`
}
