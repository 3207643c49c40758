/**
 * Finds `<tool_call>…</tool_call>` elements in streamed model text. Text outside them goes out as soon as
 * it cannot be the start of a tag; markup never leaks out as text while it may still be a call; a call is
 * reported once its closing tag arrives. Common spellings of the tag (`<tool-call>`, `<toolcall>`,
 * `<tool_calls>`, `<function_call>`, any case, spaces inside the brackets) and the typos models make in
 * it (`< /tool_call>`, `<<tool_call>`, `<tool_call>>`) are accepted: these tags are the only markup the
 * gateway repairs, so text outside them (code full of `<` and `>`) is never changed.
 */
export interface ParsedToolCall {
  name: string
  /** The arguments as JSON text. */
  arguments: string
}

export type BridgeOutput =
  | { type: 'text'; text: string }
  | { type: 'call'; call: ParsedToolCall; raw: string }
  /** Markup that looked like a call but is not one (bad JSON, no name, never closed). */
  | { type: 'malformed'; raw: string; reason: string }

const OPEN = /<<?\s*(?:tool[_-]?calls?|function[_-]?call)\s*>/i
const CLOSE = /<\s*\/\s*(?:tool[_-]?calls?|function[_-]?call)\s*>/i
/** Tag names the opening tag may be written with; a held `<…` must be a prefix of one of these. */
const NAMES = ['tool_call', 'tool-call', 'toolcall', 'tool_calls', 'tool-calls', 'toolcalls', 'function_call', 'function-call', 'functioncall']
const LONGEST_OPEN = 24

/** Could `fragment` (starting with `<`, no `>`) still grow into an opening tag? */
function mayOpen(fragment: string): boolean {
  if (fragment.length > LONGEST_OPEN) return false
  // `<<tool_call>` is a typo of the tag; `< /` may start a misspelt closing tag, never an opening one.
  const name = fragment.replace(/^<<?/, '').trim().toLowerCase()
  if (/\s/.test(name)) return false
  return NAMES.some((candidate) => candidate.startsWith(name))
}

export function parseToolCallBody(body: string): ParsedToolCall | string {
  const text = body.trim()
  if (text.startsWith('{')) {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      try {
        // Models often leave a trailing comma.
        value = JSON.parse(text.replace(/,\s*([}\]])/g, '$1'))
      } catch (error) {
        return `the call is not valid JSON (${(error as Error).message})`
      }
    }
    const { name, arguments: args, parameters } = (value ?? {}) as { name?: unknown; arguments?: unknown; parameters?: unknown }
    if (typeof name !== 'string' || !name) return 'the call has no "name"'
    const given = args ?? parameters ?? {}
    return { name, arguments: typeof given === 'string' ? given : JSON.stringify(given) }
  }
  // The XML-children form: <name>f</name><arguments>{…}</arguments>.
  const name = /<name>\s*([^<]+?)\s*<\/name>/i.exec(text)?.[1]
  if (!name) return 'the call has no name'
  const args = /<(?:arguments|parameters)>([\s\S]*?)<\/(?:arguments|parameters)>/i.exec(text)?.[1]?.trim() ?? '{}'
  return { name, arguments: args }
}

export class XmlToolCallParser {
  #buffer = ''
  #inside = false
  #open = ''
  /** A closing tag just ended: a doubled `>` (`</tool_call>>`) right after it is part of it. */
  #afterClose = false

  push(text: string): BridgeOutput[] {
    this.#buffer += text
    if (this.#afterClose && this.#buffer) {
      this.#afterClose = false
      if (this.#buffer.startsWith('>')) this.#buffer = this.#buffer.slice(1)
    }
    const out: BridgeOutput[] = []
    for (;;) {
      if (this.#inside) {
        const close = CLOSE.exec(this.#buffer)
        if (!close) break
        const body = this.#buffer.slice(0, close.index)
        const raw = `${this.#open}${body}${close[0]}`
        this.#buffer = this.#buffer.slice(close.index + close[0].length)
        this.#inside = false
        out.push(this.#result(body, raw))
        if (!this.#buffer) this.#afterClose = true
        else if (this.#buffer.startsWith('>')) this.#buffer = this.#buffer.slice(1)
        continue
      }
      const lt = this.#buffer.indexOf('<')
      if (lt < 0) {
        if (this.#buffer) out.push({ type: 'text', text: this.#buffer })
        this.#buffer = ''
        break
      }
      if (lt > 0) out.push({ type: 'text', text: this.#buffer.slice(0, lt) })
      this.#buffer = this.#buffer.slice(lt)
      const open = OPEN.exec(this.#buffer)
      if (open && open.index === 0) {
        this.#inside = true
        this.#open = open[0]
        this.#buffer = this.#buffer.slice(open[0].length)
        continue
      }
      const gt = this.#buffer.indexOf('>')
      if (gt < 0 && mayOpen(this.#buffer)) break // wait for more
      // A `<` that starts no call: it is text.
      out.push({ type: 'text', text: '<' })
      this.#buffer = this.#buffer.slice(1)
    }
    return merge(out)
  }

  /** The end of the text: an unclosed call is parsed if it is complete JSON, else it is malformed. */
  flush(): BridgeOutput[] {
    const rest = this.#buffer
    this.#buffer = ''
    if (!this.#inside) return rest ? [{ type: 'text', text: rest }] : []
    this.#inside = false
    // A model that stops right after the JSON, or writes `</tool_call` without the `>`.
    const body = rest.replace(/<\/\s*[\w-]*\s*$/, '')
    return [this.#result(body, `${this.#open}${rest}`)]
  }

  #result(body: string, raw: string): BridgeOutput {
    // `<tool_call>>`: the doubled `>` of the opening tag is not part of the call.
    const parsed = parseToolCallBody(body.replace(/^>/, ''))
    return typeof parsed === 'string' ? { type: 'malformed', raw, reason: parsed } : { type: 'call', call: parsed, raw }
  }
}

/** Joins neighbouring text pieces, so one push gives one text delta. */
function merge(outputs: BridgeOutput[]): BridgeOutput[] {
  const merged: BridgeOutput[] = []
  for (const output of outputs) {
    const last = merged.at(-1)
    if (output.type === 'text' && last?.type === 'text') last.text += output.text
    else merged.push(output)
  }
  return merged
}
