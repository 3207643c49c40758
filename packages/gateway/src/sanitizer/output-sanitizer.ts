/**
 * Cleans model text before it reaches a client: control characters a JSON client or terminal chokes on
 * are removed, and the markup typos models commonly make in XML tags (`< /tag>`, `</ tag>`, `<tag >`,
 * `<<tag>`, `<tag>>`) are repaired, so clients that parse XML from the text (and our own tool bridge)
 * read what the model meant. Text arrives in pieces: a tag split across pieces is held back until it
 * closes (at most `MAX_HELD` characters).
 */
// C0 controls except tab, newline and carriage return; DEL; C1 controls; lone surrogates.
const ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
const HAS_ILLEGAL = new RegExp(ILLEGAL.source)
const TAG_TYPOS: Array<[RegExp, string]> = [
  [/<\s+\/\s*([A-Za-z][\w-]*)\s*>/g, '</$1>'], // < /tag>
  [/<\/\s+([A-Za-z][\w-]*)\s*>/g, '</$1>'], // </ tag>
  [/<([A-Za-z][\w-]*)\s+>/g, '<$1>'], // <tag >
  [/<<(\/?[A-Za-z][\w-]*>)/g, '<$1'], // <<tag>
  [/(<\/?[A-Za-z][\w-]*)>>/g, '$1>'], // <tag>>
]
const MAX_HELD = 64

export function sanitizeText(text: string): string {
  let clean = text.replace(ILLEGAL, '')
  if (clean.includes('<')) for (const [typo, fix] of TAG_TYPOS) clean = clean.replace(typo, fix)
  return clean
}

export class OutputSanitizer {
  #held = ''

  /** The cleaned text that can go out now. */
  push(text: string): string {
    const all = this.#held + text
    // Fast path: no markup at all, nothing to hold.
    if (!all.includes('<')) {
      this.#held = ''
      return HAS_ILLEGAL.test(all) ? all.replace(ILLEGAL, '') : all
    }
    // Hold the last tag while it is unfinished (no `>` yet) or just finished (a `>>` may follow).
    const open = all.lastIndexOf('<')
    let cut = all.length
    if (all.length - open <= MAX_HELD && (all.indexOf('>', open) < 0 || all.endsWith('>'))) cut = open
    // `<<` may be a doubled bracket: keep the first `<` with the rest.
    if (cut > 0 && cut < all.length && all[cut - 1] === '<') cut -= 1
    this.#held = all.slice(cut)
    return sanitizeText(all.slice(0, cut))
  }

  /** Whatever is still held, at the end of the text. */
  flush(): string {
    const rest = this.#held
    this.#held = ''
    return sanitizeText(rest)
  }
}
