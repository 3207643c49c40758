import { BadRequestError } from '@cy/core'

/** The JSON primitives, as in llama.cpp's grammars/json.gbnf. */
const PRIMITIVES = String.raw`ws ::= | " " | "\n" [ \t]{0,20}
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
integer ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ws
boolean ::= ("true" | "false") ws
null ::= "null" ws
value ::= object | array | string | number | boolean | null
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array ::= "[" ws ( value ("," ws value)* )? "]" ws`

/** Any JSON object: what `response_format: { type: "json_object" }` asks for. */
export const JSON_OBJECT_GRAMMAR = `root ::= object\n${PRIMITIVES}\n`

type Schema = Record<string, unknown>

// A GBNF string literal of the value's JSON text: '"a"' becomes "\"a\"".
const literal = (value: unknown) => JSON.stringify(JSON.stringify(value))

/**
 * Turns a JSON Schema into a GBNF grammar whose every output is valid JSON that the schema accepts.
 * Covers what structured outputs use: objects (required properties in order, then optional ones), arrays
 * with item schemas and counts, enums and consts, strings, numbers, integers, booleans, null, type lists,
 * anyOf/oneOf, and local $refs. Anything else is refused with a 400 rather than silently loosened.
 */
export function jsonSchemaToGrammar(root: Schema): string {
  const rules = new Map<string, string>()
  const visiting = new Map<string, string>()
  let counter = 0
  const fresh = (hint: string) => `${hint.replace(/[^a-zA-Z0-9-]/g, '-').toLowerCase() || 'r'}-${counter++}`

  const resolveRef = (ref: string): Schema => {
    if (!ref.startsWith('#/')) throw unsupported(`$ref '${ref}' (only local references are supported)`)
    let node: unknown = root
    for (const part of ref.slice(2).split('/')) node = (node as Schema | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
    if (!node || typeof node !== 'object') throw unsupported(`$ref '${ref}' that points nowhere`)
    return node as Schema
  }

  const visit = (schema: Schema | boolean, hint: string): string => {
    if (schema === true || (typeof schema === 'object' && Object.keys(schema).filter((k) => !['description', 'title', '$schema', 'default', 'examples'].includes(k)).length === 0)) return 'value'
    if (schema === false) throw unsupported('a false schema')
    if (typeof schema.$ref === 'string') {
      const ref = schema.$ref
      const existing = visiting.get(ref)
      if (existing) return existing
      const name = fresh(ref.split('/').at(-1) ?? 'ref')
      visiting.set(ref, name)
      rules.set(name, visit(resolveRef(ref), name))
      return name
    }
    if (Array.isArray(schema.enum)) return `(${schema.enum.map((v) => `${literal(v)} ws`).join(' | ')})`
    if ('const' in schema) return `${literal(schema.const)} ws`
    const choices = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined
    if (Array.isArray(choices)) return `(${choices.map((choice, i) => rule(choice, `${hint}-${i}`)).join(' | ')})`
    if (Array.isArray(schema.type)) return `(${schema.type.map((type) => rule({ ...schema, type }, `${hint}-${type}`)).join(' | ')})`
    switch (schema.type) {
      case 'string':
        if (schema.format !== undefined || schema.pattern !== undefined) {
          // Formats and patterns are checked by the caller's own validation; the grammar keeps it a string.
        }
        return 'string'
      case 'number':
        return 'number'
      case 'integer':
        return 'integer'
      case 'boolean':
        return 'boolean'
      case 'null':
        return 'null'
      case 'array':
        return arrayRule(schema, hint)
      case 'object':
      case undefined:
        if (schema.type === 'object' || schema.properties) return objectRule(schema, hint)
        throw unsupported(`a schema without a type (${JSON.stringify(schema).slice(0, 80)})`)
      default:
        throw unsupported(`type '${String(schema.type)}'`)
    }
  }

  /** A named rule for a sub-schema (or the primitive's own name). */
  const rule = (schema: Schema | boolean, hint: string): string => {
    const body = visit(schema, hint)
    if (/^[a-z0-9-]+$/.test(body)) return body
    const name = fresh(hint)
    rules.set(name, body)
    return name
  }

  const arrayRule = (schema: Schema, hint: string): string => {
    const item = schema.items === undefined ? 'value' : rule(schema.items as Schema, `${hint}-item`)
    const min = Number(schema.minItems ?? 0)
    const max = schema.maxItems === undefined ? undefined : Number(schema.maxItems)
    if (max === 0) return '"[" ws "]" ws'
    const rest = `("," ws ${item})`
    const more = max === undefined ? `${rest}{${Math.max(min - 1, 0)},}` : `${rest}{${Math.max(min - 1, 0)},${max - 1}}`
    const list = `${item} ${more}`
    return min > 0 ? `"[" ws ${list} "]" ws` : `"[" ws (${list})? "]" ws`
  }

  const objectRule = (schema: Schema, hint: string): string => {
    const properties = (schema.properties ?? {}) as Record<string, Schema>
    const required = new Set((schema.required ?? []) as string[])
    const names = Object.keys(properties)
    if (names.length === 0) return schema.additionalProperties === false ? '"{" ws "}" ws' : 'object'
    const pair = (name: string) => `${literal(name)} ws ":" ws ${rule(properties[name]!, `${hint}-${name}`)}`
    const mandatory = names.filter((name) => required.has(name))
    const optional = names.filter((name) => !required.has(name))
    if (mandatory.length > 0) {
      const head = mandatory.map(pair).join(' "," ws ')
      const tail = optional.map((name) => `("," ws ${pair(name)})?`).join(' ')
      return `"{" ws ${head} ${tail} "}" ws`
    }
    // Only optional properties: any of them may come first, each later one is optional, in order.
    const chain = (from: number): string => optional.slice(from).map((name) => `("," ws ${pair(name)})?`).join(' ')
    const starts = optional.map((name, i) => `${pair(name)} ${chain(i + 1)}`)
    return `"{" ws (${starts.join(' | ')})? "}" ws`
  }

  const top = visit(root, 'root')
  const lines = [`root ::= ${top}`, ...[...rules].map(([name, body]) => `${name} ::= ${body}`), PRIMITIVES]
  return `${lines.join('\n')}\n`
}

function unsupported(what: string): BadRequestError {
  return new BadRequestError(`This server cannot constrain output to ${what}`, { param: 'response_format', code: 'unsupported_schema' })
}
