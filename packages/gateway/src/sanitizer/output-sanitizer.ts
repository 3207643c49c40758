/**
 * Cleans model text before it reaches a client: control characters a JSON client or terminal chokes on,
 * and lone surrogates, are removed. Nothing else is touched: text is often code (`Vec<Vec<u8>>`,
 * `a<<b>>c`, heredocs), so markup is never rewritten here; the tool bridge repairs typos in its own
 * tags only. Text arrives in pieces: a high surrogate at the end of a piece waits for its pair.
 */
// C0 controls except the white space source code holds (tab, newline, vertical tab, form feed, carriage
// return); DEL; C1 controls (ESC and the rest drive terminals); lone surrogates.
const ILLEGAL = /[\u0000-\u0008\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
const HAS_ILLEGAL = new RegExp(ILLEGAL.source)

export function sanitizeText(text: string): string {
  return HAS_ILLEGAL.test(text) ? text.replace(ILLEGAL, '') : text
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff

export class OutputSanitizer {
  #held = ''

  /** The cleaned text that can go out now. */
  push(text: string): string {
    const all = this.#held + text
    const cut = all.length > 0 && isHighSurrogate(all.charCodeAt(all.length - 1)) ? all.length - 1 : all.length
    this.#held = all.slice(cut)
    return sanitizeText(cut === all.length ? all : all.slice(0, cut))
  }

  /** Whatever is still held, at the end of the text. */
  flush(): string {
    const rest = this.#held
    this.#held = ''
    return sanitizeText(rest)
  }
}
