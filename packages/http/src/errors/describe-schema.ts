import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/** The JSON Schema keywords the descriptions read (TypeBox schemas are plain JSON Schema). */
interface Schema {
  type?: string
  anyOf?: Schema[]
  const?: unknown
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  items?: Schema
  properties?: Record<string, Schema>
}

const isNull = (schema: Schema) => schema.type === 'null'

function range(noun: string, schema: Schema): string {
  const low = schema.minimum ?? schema.exclusiveMinimum
  const high = schema.maximum ?? schema.exclusiveMaximum
  if (low !== undefined && high !== undefined) return low === high ? `${noun} equal to ${low}` : `${noun} between ${low} and ${high}`
  if (schema.exclusiveMinimum !== undefined) return `${noun} greater than ${low}`
  if (low !== undefined) return `${noun} of at least ${low}`
  if (schema.exclusiveMaximum !== undefined) return `${noun} less than ${high}`
  if (high !== undefined) return `${noun} of at most ${high}`
  return noun
}

function stringOf(schema: Schema): string {
  const { minLength: min, maxLength: max } = schema
  if (max !== undefined) return `a string of ${min ? `${min} to ` : 'at most '}${max} characters`
  return min ? 'a non-empty string' : 'a string'
}

/** "strings", "integers", "objects": an array's items in the plural. */
function plural(schema: Schema | undefined): string {
  const options = schema?.anyOf?.filter((option) => !isNull(option))
  const key = options && discriminator(options)
  if (key) return `objects whose '${key}' is one of ${options!.map((option) => JSON.stringify(option.properties![key]!.const)).join(', ')}`
  if (!schema?.type || schema.anyOf) return 'values'
  return { string: 'strings', integer: 'integers', number: 'numbers', boolean: 'booleans', object: 'objects', array: 'arrays' }[schema.type] ?? 'values'
}

function arrayOf(schema: Schema): string {
  const items = plural(schema.items)
  if (schema.maxItems !== undefined) return `an array of ${schema.minItems ? `${schema.minItems} to ` : 'at most '}${schema.maxItems} ${items}`
  return `${schema.minItems ? 'a non-empty array' : 'an array'} of ${items}`
}

function joinAlternatives(parts: string[]): string {
  if (parts.length <= 2) return parts.join(' or ')
  return `${parts.slice(0, -1).join(', ')}, or ${parts.at(-1)}`
}

/** The property every alternative of a union of objects fixes to a constant (`type` for most OpenAI unions). */
function discriminator(options: Schema[]): string | undefined {
  const first = options[0]?.properties
  if (!first) return undefined
  return Object.keys(first).find((key) => options.every((option) => option.properties?.[key]?.const !== undefined))
}

/**
 * What a schema accepts, in words: "a number between 0 and 2", "a string or an array of at most 4 strings",
 * `one of "user", "assistant"`. Null alternatives are left out (null always means "not set" here).
 */
export function describeSchema(schema: unknown): string | undefined {
  const s = schema as Schema | undefined
  if (!s) return undefined
  if (s.anyOf) {
    const options = s.anyOf.filter((option) => !isNull(option))
    if (options.length === 0) return 'null'
    if (options.every((option) => option.const !== undefined)) return `one of ${options.map((option) => JSON.stringify(option.const)).join(', ')}`
    const key = discriminator(options)
    if (key) return `an object whose '${key}' is one of ${options.map((option) => JSON.stringify(option.properties![key]!.const)).join(', ')}`
    const parts = options.map(describeSchema)
    return parts.every((part) => part !== undefined) ? joinAlternatives(parts as string[]) : undefined
  }
  if (s.const !== undefined) return JSON.stringify(s.const)
  switch (s.type) {
    case 'number':
      return range('a number', s)
    case 'integer':
      return range('an integer', s)
    case 'string':
      return stringOf(s)
    case 'boolean':
      return 'a boolean'
    case 'array':
      return arrayOf(s)
    case 'object':
      return 'an object'
    case 'null':
      return 'null'
    default:
      return undefined
  }
}

/** A schema complaint as TypeBox and Elysia report it. */
export interface SchemaIssue {
  path?: string
  message?: string
  schema?: unknown
  value?: unknown
}

/**
 * For a union of objects told apart by a constant property (`response_format`, content parts), the
 * complaint about the alternative the value names, or about that property when it names none:
 * "response_format.json_schema is missing" says more than "response_format matches no alternative".
 */
export function narrowIssue(issue: SchemaIssue): SchemaIssue {
  const options = (issue.schema as Schema | undefined)?.anyOf?.filter((option) => !isNull(option))
  const value = issue.value as Record<string, unknown> | null | undefined
  // A string-or-array field given an array (content parts, Responses input): the complaint about the
  // element that is wrong, "messages[0].content[1].type", not "expected a string or an array".
  if (options && Array.isArray(value)) {
    const array = options.find((option) => option.type === 'array')
    const inner = array && deepestIssue(array, value)
    return inner ? narrowIssue({ ...inner, path: (issue.path ?? '') + inner.path }) : issue
  }
  if (!options || typeof value !== 'object' || value === null) return issue
  const key = discriminator(options)
  if (!key) return issue
  const path = issue.path ?? ''
  const chosen = options.find((option) => option.properties![key]!.const === value[key])
  if (!chosen) return { path: `${path}/${key}`, schema: { anyOf: options.map((option) => option.properties![key]) }, value: value[key] }
  const inner = deepestIssue(chosen, value)
  if (!inner) return issue
  return narrowIssue({ ...inner, path: path + inner.path })
}

/** The deepest complaint a schema has about a value, its path relative to the value. */
function deepestIssue(schema: Schema, value: unknown): SchemaIssue | undefined {
  const inner = [...Value.Errors(schema as TSchema, value)].sort((a, b) => b.path.length - a.path.length)[0]
  return inner && { path: inner.path, message: inner.message, schema: inner.schema, value: inner.value }
}

/** A value as a message quotes it: JSON, cut short. */
export function quoteValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}
