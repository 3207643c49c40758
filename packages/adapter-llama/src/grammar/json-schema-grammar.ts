import { BadRequestError } from '@cy/core'
import { STRING_CHAR, gbnfLiteral, jsonLiteral } from './grammar-text.ts'
import { LARGEST, integerRangeGrammar } from './integer-range-grammar.ts'
import { PatternError, regexToGrammar } from './regex-grammar.ts'

/** The JSON primitives, as in llama.cpp's grammars/json.gbnf. */
const PRIMITIVES = String.raw`ws ::= | " " | "\n" [ \t]{0,20}
char ::= ${STRING_CHAR}
string ::= "\"" char* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
integer ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ws
boolean ::= ("true" | "false") ws
null ::= "null" ws
value ::= object | array | string | number | boolean | null
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array ::= "[" ws ( value ("," ws value)* )? "]" ws`

/** Any JSON object: what `response_format: { type: "json_object" }` asks for. */
export const JSON_OBJECT_GRAMMAR = `root ::= object\n${PRIMITIVES}\n`

/**
 * What a client's schema may cost. Every schema node becomes one rule, so the grammar grows linearly
 * with the schema; these caps keep building it (on the main thread) to a few milliseconds and the
 * grammar small enough for llama.cpp to parse at once.
 */
export const SCHEMA_LIMITS = {
  /** The schema's JSON text. */
  schemaBytes: 64 * 1024,
  /** The grammar's text, counting repetitions as llama.cpp expands them. */
  grammarBytes: 512 * 1024,
  depth: 64,
  patternLength: 1000,
  /** The largest count in a repetition (`maxLength`, `maxItems`, `{n,m}` in a pattern). */
  repeat: 4096,
}

type Schema = Record<string, unknown>

/** Keywords that describe and never constrain. */
const ANNOTATIONS = new Set(['description', 'title', '$schema', '$id', '$comment', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', '$defs', 'definitions'])
/** Keywords the grammar enforces; any other is refused by name. */
const SUPPORTED = new Set([
  'type', 'enum', 'const', 'anyOf', 'oneOf', '$ref', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems',
  'minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
])
/** The formats that are expressible as patterns. */
const FORMATS: Record<string, string> = {
  date: '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$',
  time: '^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$',
  'date-time': '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$',
  uuid: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
}

const constraints = (schema: Schema) => Object.keys(schema).filter((key) => !ANNOTATIONS.has(key))

/**
 * Builds one GBNF grammar from JSON Schemas, whose every output is valid JSON that the schema accepts.
 * Covers objects (required properties in order, then optional ones; `additionalProperties` as a schema
 * when there are no properties), arrays with item schemas and counts, enums and consts, strings with
 * lengths, patterns and the date, time, date-time and uuid formats, integers with ranges, numbers with
 * whole non-negative ranges, booleans, null, type lists, anyOf/oneOf, and local $refs. Anything else
 * is refused with a 400 naming the keyword rather than silently loosened. Each schema node becomes
 * one rule, made once however often it is referenced.
 */
export class GrammarBuilder {
  readonly #rules = new Map<string, string>()
  readonly #names = new Map<object, string>()
  #size = 0
  #counter = 0

  /** `param` is what a 400 names: `response_format`, or `tools`. */
  constructor(readonly param: string) {}

  /** The rule for `schema`, its `$ref`s resolved in `document`. */
  schema(schema: unknown, document: unknown = schema, hint = 'root'): string {
    const bytes = JSON.stringify(schema)?.length ?? 0
    if (bytes > SCHEMA_LIMITS.schemaBytes) throw this.#refuse(`a schema of ${bytes} bytes (at most ${SCHEMA_LIMITS.schemaBytes})`)
    return this.#visit(schema, document as Schema, '#', hint, 0)
  }

  /**
   * Runs `build`; if it throws, the rules it added are taken back, so the caller can fall back to
   * something looser and the grammar stays whole.
   */
  attempt<T>(build: () => T): T | BadRequestError {
    const rules = new Set(this.#rules.keys())
    const names = new Set(this.#names.keys())
    const size = this.#size
    try {
      return build()
    } catch (error) {
      if (!(error instanceof BadRequestError)) throw error
      for (const key of [...this.#rules.keys()]) if (!rules.has(key)) this.#rules.delete(key)
      for (const key of [...this.#names.keys()]) if (!names.has(key)) this.#names.delete(key)
      this.#size = size
      return error
    }
  }

  /** Adds a rule of the caller's own. */
  define(hint: string, body: string): string {
    const name = this.#fresh(hint)
    this.#set(name, body, 0)
    return name
  }

  /** A new rule name: the hint's last word (for reading the grammar) and a counter. */
  #fresh(hint: string): string {
    const word = hint.split(/[^a-zA-Z0-9]+/).filter(Boolean).at(-1)?.toLowerCase().slice(0, 16) ?? ''
    return `${word || 'r'}-${this.#counter++}`
  }

  /** The whole grammar, `root` being the start. */
  grammar(root: string): string {
    const lines = [`root ::= ${root}`, ...[...this.#rules].map(([name, body]) => `${name} ::= ${body}`), PRIMITIVES]
    return `${lines.join('\n')}\n`
  }

  /** `expansion`: what llama.cpp's expansion of repetitions adds to the body. */
  #set(name: string, body: string, expansion: number): void {
    this.#size += name.length + body.length + expansion + 5
    if (this.#size > SCHEMA_LIMITS.grammarBytes) throw this.#refuse(`a schema whose grammar is larger than ${SCHEMA_LIMITS.grammarBytes} bytes`)
    this.#rules.set(name, body)
  }

  #refuse(what: string, keyword?: string): BadRequestError {
    const message = keyword ? `This server cannot constrain output to the JSON Schema keyword '${keyword}' ${what}` : `This server cannot constrain output to ${what}`
    return new BadRequestError(message, { param: this.param, code: 'unsupported_schema' })
  }

  #visit(schema: unknown, document: Schema, path: string, hint: string, depth: number): string {
    if (schema === true) return 'value'
    if (schema === false) throw this.#refuse(`(at ${path}): a false schema accepts nothing`, 'false')
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw this.#refuse(`(at ${path}): a schema must be an object`, String(schema))
    const node = schema as Schema
    if (constraints(node).length === 0) return 'value'
    const known = this.#names.get(node)
    if (known) return known
    if (depth > SCHEMA_LIMITS.depth) throw this.#refuse(`a schema nested deeper than ${SCHEMA_LIMITS.depth}`)
    for (const key of constraints(node)) if (!SUPPORTED.has(key)) throw this.#refuse(`(at ${path})`, key)
    const name = this.#fresh(hint)
    // Named before its body is built, so a recursive $ref finds it.
    this.#names.set(node, name)
    const [body, cost] = this.#body(node, document, path, hint, depth + 1)
    this.#set(name, body, cost)
    return name
  }

  /** The rule's body, and what expanding its repetitions adds. */
  #body(schema: Schema, document: Schema, path: string, hint: string, depth: number): [string, number] {
    const visit = (child: unknown, at: string, childHint: string) => this.#visit(child, document, at, childHint, depth)
    const only = (keyword: string, allowed: string[]) => {
      const extra = constraints(schema).find((key) => key !== keyword && !allowed.includes(key))
      if (extra) throw this.#refuse(`(at ${path}) beside '${keyword}'`, extra)
    }
    if (typeof schema.$ref === 'string') {
      only('$ref', [])
      return [visit(this.#resolve(schema.$ref, document), schema.$ref, schema.$ref.split('/').at(-1) ?? 'ref'), 0]
    }
    // An enum or a const is the whole output; a type beside it adds nothing.
    if (Array.isArray(schema.enum)) {
      if (schema.enum.length === 0) throw this.#refuse(`(at ${path}): an empty enum accepts nothing`, 'enum')
      return [`(${schema.enum.map((v) => `${jsonLiteral(v)} ws`).join(' | ')})`, 0]
    }
    if ('const' in schema) return [`${jsonLiteral(schema.const)} ws`, 0]
    const choices = schema.anyOf ?? schema.oneOf
    if (choices !== undefined) {
      const keyword = schema.anyOf !== undefined ? 'anyOf' : 'oneOf'
      only(keyword, [])
      if (!Array.isArray(choices) || choices.length === 0) throw this.#refuse(`(at ${path}): it must be a non-empty list`, keyword)
      return [`(${choices.map((choice, i) => visit(choice, `${path}/${keyword}/${i}`, `${hint}-${i}`)).join(' | ')})`, 0]
    }
    if (Array.isArray(schema.type)) {
      if (schema.type.length === 0) throw this.#refuse(`(at ${path}): an empty list of types`, 'type')
      return [`(${schema.type.map((type) => visit({ ...schema, type }, `${path}/type`, `${hint}-${type}`)).join(' | ')})`, 0]
    }
    switch (schema.type) {
      case 'string':
        return this.#string(schema, path)
      case 'integer':
        return [this.#integer(schema, path), 0]
      case 'number':
        return [this.#number(schema, path), 0]
      case 'boolean':
        return ['boolean', 0]
      case 'null':
        return ['null', 0]
      case 'array':
        return this.#array(schema, path, hint, visit)
      case 'object':
      case undefined:
        if (schema.type === 'object' || schema.properties) return [this.#object(schema, path, hint, visit), 0]
        throw this.#refuse(`a schema without a type (at ${path})`)
      default:
        throw this.#refuse(`(at ${path}): type '${String(schema.type)}'`, 'type')
    }
  }

  #resolve(ref: string, document: Schema): Schema {
    if (!ref.startsWith('#')) throw this.#refuse(`'${ref}' (only local references are supported)`, '$ref')
    let node: unknown = document
    for (const part of ref.slice(2).split('/').filter(Boolean)) node = (node as Schema | undefined)?.[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')]
    if (node === undefined || node === null || typeof node !== 'object') throw this.#refuse(`'${ref}' that points nowhere`, '$ref')
    return node as Schema
  }

  #count(schema: Schema, keyword: string, path: string): number | undefined {
    const value = schema[keyword]
    if (value === undefined) return undefined
    if (!Number.isInteger(value) || (value as number) < 0) throw this.#refuse(`(at ${path}): it must be a non-negative integer`, keyword)
    if ((value as number) > SCHEMA_LIMITS.repeat) throw this.#refuse(`(at ${path}) above ${SCHEMA_LIMITS.repeat}`, keyword)
    return value as number
  }

  #string(schema: Schema, path: string): [string, number] {
    const min = this.#count(schema, 'minLength', path)
    const max = this.#count(schema, 'maxLength', path)
    let pattern = schema.pattern
    if (schema.format !== undefined) {
      const format = FORMATS[String(schema.format)]
      if (!format) throw this.#refuse(`(at ${path}): format '${String(schema.format)}' (supported: ${Object.keys(FORMATS).join(', ')})`, 'format')
      if (pattern !== undefined) throw this.#refuse(`(at ${path}) beside 'format'`, 'pattern')
      pattern = format
    }
    if (pattern !== undefined) {
      if (min !== undefined || max !== undefined) throw this.#refuse(`(at ${path}) beside 'pattern'`, min !== undefined ? 'minLength' : 'maxLength')
      if (typeof pattern !== 'string') throw this.#refuse(`(at ${path}): it must be a string`, 'pattern')
      if (pattern.length > SCHEMA_LIMITS.patternLength) throw this.#refuse(`(at ${path}) longer than ${SCHEMA_LIMITS.patternLength} characters`, 'pattern')
      try {
        const content = regexToGrammar(pattern, 'char', SCHEMA_LIMITS.grammarBytes)
        return [`"\\"" ${content.text} "\\"" ws`, content.cost]
      } catch (error) {
        if (error instanceof PatternError) throw this.#refuse(`(at ${path}): ${error.message}`, 'pattern')
        throw error
      }
    }
    if (min === undefined && max === undefined) return ['string', 0]
    if (max !== undefined && min !== undefined && max < min) throw this.#refuse(`(at ${path}) below minLength`, 'maxLength')
    const repeat = max === undefined ? `{${min},}` : `{${min ?? 0},${max}}`
    return [`"\\"" char${repeat} "\\"" ws`, 8 * (max ?? min ?? 0)]
  }

  #bound(schema: Schema, keyword: string, path: string): number | undefined {
    const value = schema[keyword]
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.#refuse(`(at ${path}): it must be a number`, keyword)
    if (Math.abs(value) > LARGEST) throw this.#refuse(`(at ${path}) beyond ±${LARGEST}`, keyword)
    return value
  }

  #integer(schema: Schema, path: string): string {
    const lows = [this.#bound(schema, 'minimum', path), this.#bound(schema, 'exclusiveMinimum', path)]
    const highs = [this.#bound(schema, 'maximum', path), this.#bound(schema, 'exclusiveMaximum', path)]
    if (lows.every((v) => v === undefined) && highs.every((v) => v === undefined)) return 'integer'
    const candidates = [lows[0] === undefined ? undefined : Math.ceil(lows[0]), lows[1] === undefined ? undefined : Math.floor(lows[1]) + 1].filter((v) => v !== undefined)
    const ceilings = [highs[0] === undefined ? undefined : Math.floor(highs[0]), highs[1] === undefined ? undefined : Math.ceil(highs[1]) - 1].filter((v) => v !== undefined)
    const low = candidates.length ? Math.max(...candidates) : undefined
    const high = ceilings.length ? Math.min(...ceilings) : undefined
    if (low !== undefined && high !== undefined && low > high) throw this.#refuse(`(at ${path}): no integer lies in the range`, 'minimum')
    return `${integerRangeGrammar(low, high)} ws`
  }

  #number(schema: Schema, path: string): string {
    for (const keyword of ['exclusiveMinimum', 'exclusiveMaximum']) if (schema[keyword] !== undefined) throw this.#refuse(`(at ${path}) on a number (use an integer type, or minimum)`, keyword)
    const min = this.#bound(schema, 'minimum', path)
    const max = this.#bound(schema, 'maximum', path)
    if (min === undefined && max === undefined) return 'number'
    // Whole non-negative bounds: an integer part in range and any fraction, or the maximum itself.
    if (min === undefined || !Number.isInteger(min) || min < 0) throw this.#refuse(`(at ${path}) on a number unless it is a whole number ≥ 0`, 'minimum')
    if (max !== undefined && (!Number.isInteger(max) || max < min)) throw this.#refuse(`(at ${path}) on a number unless it is a whole number ≥ minimum`, 'maximum')
    const fraction = '("." [0-9]{1,15})?'
    if (max === undefined) return `${integerRangeGrammar(min, undefined)} ${fraction} ws`
    const exact = `${gbnfLiteral(String(max))} ("." "0"{1,15})?`
    return max === min ? `${exact} ws` : `(${integerRangeGrammar(min, max - 1)} ${fraction} | ${exact}) ws`
  }

  #array(schema: Schema, path: string, hint: string, visit: (child: unknown, at: string, hint: string) => string): [string, number] {
    if (Array.isArray(schema.items)) throw this.#refuse(`(at ${path}) as a list (tuples)`, 'items')
    const item = schema.items === undefined ? 'value' : visit(schema.items, `${path}/items`, `${hint}-item`)
    const min = this.#count(schema, 'minItems', path) ?? 0
    const max = this.#count(schema, 'maxItems', path)
    if (max !== undefined && max < min) throw this.#refuse(`(at ${path}) below minItems`, 'maxItems')
    if (max === 0) return ['"[" ws "]" ws', 0]
    const rest = `("," ws ${item})`
    const more = max === undefined ? `${rest}{${Math.max(min - 1, 0)},}` : `${rest}{${Math.max(min - 1, 0)},${max - 1}}`
    const list = `${item} ${more}`
    const body = min > 0 ? `"[" ws ${list} "]" ws` : `"[" ws (${list})? "]" ws`
    return [body, (item.length + 8) * Math.max(max ?? min, 1)]
  }

  #object(schema: Schema, path: string, hint: string, visit: (child: unknown, at: string, hint: string) => string): string {
    const properties = (schema.properties ?? {}) as Record<string, unknown>
    if (typeof properties !== 'object' || Array.isArray(properties)) throw this.#refuse(`(at ${path}): it must be an object`, 'properties')
    const required = Array.isArray(schema.required) ? schema.required.map(String) : []
    // A required name without a schema of its own may hold any value.
    const names = [...new Set([...Object.keys(properties), ...required])]
    const extra = schema.additionalProperties
    const extraSchema = extra !== undefined && typeof extra === 'object' && extra !== null && constraints(extra as Schema).length > 0
    if (extraSchema && names.length > 0) throw this.#refuse(`(at ${path}) as a schema beside 'properties'`, 'additionalProperties')
    if (names.length === 0) {
      if (extra === false) return '"{" ws "}" ws'
      if (!extraSchema) return 'object'
      const pair = `string ":" ws ${visit(extra, `${path}/additionalProperties`, `${hint}-extra`)}`
      return `"{" ws ( ${pair} ("," ws ${pair})* )? "}" ws`
    }
    const pair = (name: string) =>
      this.define(`${hint}-${name}-kv`, `${jsonLiteral(name)} ws ":" ws ${visit(properties[name] ?? true, `${path}/properties/${name}`, `${hint}-${name}`)}`)
    const requiredSet = new Set(required)
    const mandatory = names.filter((name) => requiredSet.has(name)).map(pair)
    const optional = names.filter((name) => !requiredSet.has(name)).map(pair)
    if (mandatory.length > 0) {
      const tail = optional.map((kv) => `("," ws ${kv})?`).join(' ')
      return `"{" ws ${mandatory.join(' "," ws ')} ${tail} "}" ws`
    }
    // Only optional properties, in order: any may come first, then each later one or not. The tails
    // are rules of their own so that the grammar stays linear in the number of properties.
    let tail = ''
    const starts: string[] = []
    for (let i = optional.length - 1; i >= 0; i--) {
      starts.unshift(`${optional[i]}${tail ? ` ${tail}` : ''}`)
      tail = this.define(`${hint}-tail`, `("," ws ${optional[i]})?${tail ? ` ${tail}` : ''}`)
    }
    return `"{" ws (${starts.join(' | ')})? "}" ws`
  }
}

/** A grammar for JSON that `schema` accepts (`response_format: json_schema`). */
export function jsonSchemaToGrammar(schema: Schema, param = 'response_format'): string {
  const builder = new GrammarBuilder(param)
  return builder.grammar(builder.schema(schema))
}
