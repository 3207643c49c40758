import { BadRequestError } from '@cy/core'
import { describe, expect, test } from 'bun:test'
import { SCHEMA_LIMITS, jsonSchemaToGrammar } from '../../packages/adapter-llama/src/grammar/json-schema-grammar.ts'
import { requestGrammar } from '../../packages/adapter-llama/src/grammar/request-grammar.ts'
import { checkMessagesFit, MAX_BYTES_PER_TOKEN } from '../../packages/adapter-llama/src/prompt-limits.ts'

const refusal = (schema: Record<string, unknown>) => {
  try {
    jsonSchemaToGrammar(schema)
  } catch (error) {
    return error as BadRequestError
  }
  throw new Error(`no refusal for ${JSON.stringify(schema).slice(0, 200)}`)
}

describe('JSON Schema to GBNF', () => {
  test('deeply repeated $refs and nested optional objects give a bounded grammar, quickly; past the caps a 400', () => {
    // Each level refers to the one below six times: expanded, 6^12 nodes; one rule per node here.
    const defs: Record<string, unknown> = { n0: { type: 'string' } }
    for (let d = 1; d <= 12; d++) defs[`n${d}`] = { type: 'object', properties: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`p${i}`, { $ref: `#/$defs/n${d - 1}` }])) }
    const started = performance.now()
    const grammar = jsonSchemaToGrammar({ $defs: defs, $ref: '#/$defs/n12' })
    expect(grammar.length).toBeLessThan(20_000)
    // Inline nesting of objects with only optional properties (the shape that once made 61 MB).
    const inline = (d: number): unknown => (d === 0 ? { type: 'string' } : { type: 'object', properties: Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`p${i}`, inline(d - 1)])) })
    const nested = jsonSchemaToGrammar(inline(5) as Record<string, unknown>)
    expect(nested.length).toBeLessThan(SCHEMA_LIMITS.grammarBytes)
    expect(performance.now() - started).toBeLessThan(500)
    // 116 KB of schema: refused at once, naming response_format.
    const big = inline(7) as Record<string, unknown>
    expect(JSON.stringify(big).length).toBeGreaterThan(SCHEMA_LIMITS.schemaBytes)
    const error = refusal(big)
    expect([error.status, error.param]).toEqual([400, 'response_format'])
    // Too deep to follow.
    let deep: Record<string, unknown> = { type: 'string' }
    for (let d = 0; d < 200; d++) deep = { type: 'array', items: deep }
    expect(refusal(deep).message).toContain('deeper')
  })

  test('each keyword the grammar cannot enforce is a 400 naming it', () => {
    for (const [keyword, schema] of [
      ['uniqueItems', { type: 'array', uniqueItems: true }],
      ['format', { type: 'string', format: 'email' }],
      ['pattern', { type: 'string', pattern: '(?=a)b' }],
      ['pattern', { type: 'string', pattern: '(a)\\1' }],
      ['additionalProperties', { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'number' } }],
      ['exclusiveMinimum', { type: 'number', exclusiveMinimum: 0 }],
      ['minimum', { type: 'number', minimum: -1.5 }],
      ['multipleOf', { type: 'integer', multipleOf: 3 }],
      ['allOf', { allOf: [{ type: 'string' }] }],
      ['not', { type: 'object', properties: { a: { not: { type: 'string' } } } }],
      ['patternProperties', { type: 'object', patternProperties: { '^a': { type: 'string' } } }],
      ['minProperties', { type: 'object', minProperties: 1 }],
      ['maxLength', { type: 'string', maxLength: SCHEMA_LIMITS.repeat + 1 }],
    ] as const) {
      const error = refusal(schema)
      expect([keyword, error.status, error.param, error.message]).toEqual([keyword, 400, 'response_format', expect.stringContaining(`'${keyword}'`)])
    }
  })
})

describe('request limits before the engine', () => {
  test('a client’s own GBNF `grammar` is held to the grammar cap: a 400 naming grammar', () => {
    const huge = `root ::= ${JSON.stringify('x'.repeat(SCHEMA_LIMITS.grammarBytes))}`
    expect(() => requestGrammar({ grammar: huge })).toThrow(BadRequestError)
    expect(() => requestGrammar({ grammar: huge })).toThrow('at most')
    expect(requestGrammar({ grammar: 'root ::= "yes"' })).toEqual({ grammar: 'root ::= "yes"' })
  })

  test('the arguments of earlier tool calls count toward the early length refusal', () => {
    const call = { id: 'c', type: 'function', function: { name: 'f', arguments: JSON.stringify({ text: 'x'.repeat(64 * MAX_BYTES_PER_TOKEN) }) } }
    expect(() => checkMessagesFit([{ content: 'hi' }, { content: '', tool_calls: [call] }], 64)).toThrow('context holds 64 tokens')
    expect(() => checkMessagesFit([{ content: 'hi' }, { content: '' }], 64)).not.toThrow()
  })
})
