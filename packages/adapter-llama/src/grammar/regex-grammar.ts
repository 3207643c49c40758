import { classChar, gbnfLiteral } from './grammar-text.ts'

/** A GBNF expression and what it costs once llama.cpp has expanded its repetitions. */
export interface Expression {
  text: string
  cost: number
}

/** Thrown for a part of a pattern that GBNF cannot express; the caller turns it into a 400. */
export class PatternError extends Error {}

type Range = [number, number]

const DIGIT: Range[] = [[0x30, 0x39]]
const WORD: Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]
const SPACE: Range[] = [[0x09, 0x0d], [0x20, 0x20]]
/** What a JSON string cannot hold unescaped (the quote, the backslash, controls; DEL as llama.cpp's json.gbnf). */
const SPECIAL = (code: number) => code < 0x20 || code === 0x22 || code === 0x5c || code === 0x7f
const EXCLUDED_RAW = String.raw`"\\\x7F\x00-\x1F`
const NOT_NEWLINE: Range[] = [[0x0a, 0x0a], [0x0d, 0x0d]]

function complement(ranges: Range[]): Range[] {
  const out: Range[] = []
  let next = 0
  for (const [lo, hi] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (lo > next) out.push([next, lo - 1])
    next = Math.max(next, hi + 1)
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff])
  return out
}

/** The JSON escape of a special character, as a GBNF literal. */
const escaped = (code: number) => gbnfLiteral(code === 0x7f ? '\\u007f' : JSON.stringify(String.fromCodePoint(code)).slice(1, -1))

function classText(ranges: Range[], negated: boolean): string {
  const body = ranges.map(([lo, hi]) => (lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`)).join('')
  if (negated) return `[^${body}${EXCLUDED_RAW}]`
  // Special characters the class allows go out as JSON escapes; the rest as raw characters.
  const raw: Range[] = []
  const escapes: string[] = []
  for (const [lo, hi] of ranges) {
    let start = lo
    for (let code = lo; code <= Math.min(hi, 0x7f); code++) {
      if (!SPECIAL(code)) continue
      if (code > start) raw.push([start, code - 1])
      escapes.push(escaped(code))
      start = code + 1
    }
    if (start <= hi) raw.push([start, hi])
  }
  const parts = raw.length ? [`[${raw.map(([lo, hi]) => (lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`)).join('')}]`] : []
  parts.push(...new Set(escapes))
  if (parts.length === 0) throw new PatternError('an empty character class')
  return parts.length === 1 ? parts[0]! : `(${parts.join(' | ')})`
}

/**
 * Turns a JSON Schema `pattern` (an ECMAScript regex, unanchored unless it says `^`/`$`) into a GBNF
 * expression for a JSON string's content, whose every output the pattern matches. Literals, `.`,
 * classes and `\d \w \s` (and their negations), groups, alternation and the quantifiers are expressed;
 * lookaround, backreferences and word boundaries are refused. `anyChar` names the rule for one
 * character of a JSON string, used for the unanchored ends.
 */
export function regexToGrammar(pattern: string, anyChar: string, maxCost: number): Expression {
  let pos = 0
  let depth = 0
  const peek = () => pattern[pos]
  const fail = (what: string): never => {
    throw new PatternError(`${what} (at offset ${pos})`)
  }

  const codeAt = (): number => {
    const code = pattern.codePointAt(pos)!
    pos += code > 0xffff ? 2 : 1
    return code
  }

  const hex = (digits: number): number => {
    const text = pattern.slice(pos, pos + digits)
    if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(text)) fail('a malformed escape')
    pos += digits
    return Number.parseInt(text, 16)
  }

  /** After a backslash: a class (shorthand) or one code point. */
  const escape = (inClass: boolean): { ranges: Range[]; negated: boolean } | number => {
    const c = pattern[pos++]
    if (c === undefined) return fail('a pattern ending in a backslash')
    switch (c) {
      case 'd':
        return { ranges: DIGIT, negated: false }
      case 'w':
        return { ranges: WORD, negated: false }
      case 's':
        return { ranges: SPACE, negated: false }
      case 'D':
      case 'W':
      case 'S': {
        const ranges = c === 'D' ? DIGIT : c === 'W' ? WORD : SPACE
        // Inside a class the negation joins the other members: its complement.
        return inClass ? { ranges: complement(ranges), negated: false } : { ranges, negated: true }
      }
      case 'n':
        return 0x0a
      case 't':
        return 0x09
      case 'r':
        return 0x0d
      case 'f':
        return 0x0c
      case 'v':
        return 0x0b
      case 'x':
        return hex(2)
      case 'u':
        return hex(4)
      default:
        if (/[A-Za-z0-9]/.test(c)) return fail(`the escape \\${c}`)
        return c.codePointAt(0)!
    }
  }

  const charClass = (): Expression => {
    const negated = peek() === '^'
    if (negated) pos++
    const ranges: Range[] = []
    let first = true
    while (peek() !== ']' || first) {
      first = false
      if (pos >= pattern.length) fail('an unclosed character class')
      let lo: number
      if (peek() === '\\') {
        pos++
        const e = escape(true)
        if (typeof e !== 'number') {
          ranges.push(...e.ranges)
          continue
        }
        lo = e
      } else lo = codeAt()
      if (peek() === '-' && pattern[pos + 1] !== ']' && pos + 1 < pattern.length) {
        pos++
        let hi: number
        if (peek() === '\\') {
          pos++
          const e = escape(true)
          if (typeof e !== 'number') return fail('a range ending in a class')
          hi = e
        } else hi = codeAt()
        if (hi < lo) fail('a range out of order')
        ranges.push([lo, hi])
      } else ranges.push([lo, lo])
    }
    pos++
    return { text: classText(ranges, negated), cost: 1 }
  }

  const atom = (): Expression | undefined => {
    const c = peek()
    if (c === undefined || c === '|' || c === ')') return undefined
    // `$` ends a top-level branch; the caller takes it.
    if (c === '$' && depth === 0 && (pos + 1 === pattern.length || pattern[pos + 1] === '|')) return undefined
    if (c === '(') {
      pos++
      if (peek() === '?') {
        if (pattern[pos + 1] !== ':') fail('a lookaround or named group')
        pos += 2
      }
      depth++
      const inner = alternation()
      depth--
      if (peek() !== ')') fail('an unclosed group')
      pos++
      return { text: `(${inner.text})`, cost: inner.cost }
    }
    if (c === '[') {
      pos++
      return charClass()
    }
    if (c === '.') {
      pos++
      return { text: classText(NOT_NEWLINE, true), cost: 1 }
    }
    if (c === '^' || c === '$') return fail(`an anchor '${c}' inside the pattern`)
    if (c === '*' || c === '+' || c === '?' || c === '{') return fail(`a quantifier '${c}' with nothing to repeat`)
    if (c === '\\') {
      pos++
      const e = escape(false)
      if (typeof e !== 'number') return { text: classText(e.ranges, e.negated), cost: 1 }
      return { text: SPECIAL(e) ? escaped(e) : gbnfLiteral(String.fromCodePoint(e)), cost: 1 }
    }
    const code = codeAt()
    return { text: SPECIAL(code) ? escaped(code) : gbnfLiteral(String.fromCodePoint(code)), cost: 1 }
  }

  const quantified = (): Expression | undefined => {
    const base = atom()
    if (!base) return undefined
    const c = peek()
    let min: number
    let max: number | undefined
    if (c === '*' || c === '+' || c === '?') {
      pos++
      ;[min, max] = c === '*' ? [0, undefined] : c === '+' ? [1, undefined] : [0, 1]
    } else if (c === '{') {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(pos))
      if (!match) return fail("a '{' that is no quantifier")
      pos += match[0].length
      min = Number(match[1])
      max = match[2] === undefined ? min : match[3] ? Number(match[3]) : undefined
      if (max !== undefined && max < min) fail('a quantifier out of order')
    } else return base
    // A lazy quantifier matches the same strings.
    if (peek() === '?') pos++
    if (peek() === '+' || peek() === '*' || peek() === '{') fail('a repeated quantifier')
    const suffix = max === undefined ? (min === 0 ? '*' : min === 1 ? '+' : `{${min},}`) : min === 0 && max === 1 ? '?' : min === max ? `{${min}}` : `{${min},${max}}`
    return { text: `(${base.text})${suffix}`, cost: base.cost * Math.max(max ?? min + 1, 1) }
  }

  const sequence = (): Expression => {
    const parts: Expression[] = []
    for (let part = quantified(); part; part = quantified()) parts.push(part)
    return { text: parts.length ? parts.map((p) => p.text).join(' ') : '""', cost: parts.reduce((sum, p) => sum + p.cost, 0) }
  }

  const alternation = (): Expression => {
    const branches = [sequence()]
    while (peek() === '|') {
      pos++
      branches.push(sequence())
    }
    return branches.length === 1 ? branches[0]! : { text: branches.map((b) => b.text).join(' | '), cost: branches.reduce((sum, b) => sum + b.cost, 0) }
  }

  // Anchors are allowed only at the ends of a top-level branch; an unanchored end matches anything.
  const branches: Expression[] = []
  for (;;) {
    const start = peek() === '^'
    if (start) pos++
    const body = sequence()
    const end = peek() === '$'
    if (end) pos++
    branches.push({ text: [start ? '' : `${anyChar}*`, body.text, end ? '' : `${anyChar}*`].filter(Boolean).join(' '), cost: body.cost + 2 })
    if (peek() !== '|') break
    pos++
  }
  if (pos < pattern.length) fail(`an unexpected '${peek()}'`)
  const result = branches.length === 1 ? branches[0]! : { text: `(${branches.map((b) => b.text).join(' | ')})`, cost: branches.reduce((sum, b) => sum + b.cost, 0) }
  if (result.cost > maxCost) throw new PatternError(`repetitions that expand past ${maxCost} grammar elements`)
  return result
}
