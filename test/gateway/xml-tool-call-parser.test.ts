import { XmlToolCallParser, type BridgeOutput } from '@cy/gateway'
import { describe, expect, test } from 'bun:test'
import { ALL_CODE } from './code-samples.ts'

/** Feeds `text` in pieces of `size` characters and gathers what comes out. */
function parse(text: string, size = 1): { outputs: BridgeOutput[]; emittedText: string[] } {
  const parser = new XmlToolCallParser()
  const outputs: BridgeOutput[] = []
  const emittedText: string[] = []
  for (let i = 0; i < text.length; i += size) {
    for (const output of parser.push(text.slice(i, i + size))) {
      outputs.push(output)
      if (output.type === 'text') emittedText.push(output.text)
    }
  }
  for (const output of parser.flush()) {
    outputs.push(output)
    if (output.type === 'text') emittedText.push(output.text)
  }
  return { outputs, emittedText }
}

const calls = (outputs: BridgeOutput[]) => outputs.flatMap((o) => (o.type === 'call' ? [[o.call.name, JSON.parse(o.call.arguments)]] : []))
const text = (outputs: BridgeOutput[]) => outputs.flatMap((o) => (o.type === 'text' ? [o.text] : [])).join('')

describe('the XML tool call parser', () => {
  test('a call split into one-character deltas, with nested JSON arguments; no markup leaks as text', () => {
    const source = 'Checking.\n<tool_call>\n{"name": "search", "arguments": {"query": "a <b> c", "filters": {"tags": ["x", "y"], "depth": 2}}}\n</tool_call>'
    const { outputs, emittedText } = parse(source, 1)
    expect(calls(outputs)).toEqual([['search', { query: 'a <b> c', filters: { tags: ['x', 'y'], depth: 2 } }]])
    expect(text(outputs)).toBe('Checking.\n')
    for (const piece of emittedText) expect(piece).not.toContain('<')
  })

  test('two calls at once, in any chunking', () => {
    const source = '<tool_call>{"name":"a","arguments":{"n":1}}</tool_call>\n<tool_call>{"name":"b","arguments":{}}</tool_call>'
    for (const size of [1, 2, 5, 13, source.length]) {
      const { outputs } = parse(source, size)
      expect(calls(outputs)).toEqual([
        ['a', { n: 1 }],
        ['b', {}],
      ])
      expect(text(outputs)).toBe('\n')
    }
  })

  test('text that only looks like the start of a tag comes out as text', () => {
    const source = 'if a < b and <toolbox> or <b>bold</b>, x<tool'
    const { outputs } = parse(source, 2)
    expect(calls(outputs)).toEqual([])
    expect(text(outputs)).toBe(source)
  })

  test('common misspellings of the tag, a trailing comma, and the XML-children form are read', () => {
    expect(calls(parse('<tool-call>{"name":"a","arguments":{"x":1,},}</tool-call>').outputs)).toEqual([['a', { x: 1 }]])
    expect(calls(parse('< ToolCall >{"name":"b","parameters":{"y":2}}</toolcall>').outputs)).toEqual([['b', { y: 2 }]])
    expect(calls(parse('<function_call><name>c</name><arguments>{"z":3}</arguments></function_call>').outputs)).toEqual([['c', { z: 3 }]])
  })

  test('malformed markup is reported as such, with its text; an unclosed call at the end is read if it is whole', () => {
    const bad = parse('<tool_call>{"name": "a", "arguments": {oops}}</tool_call>').outputs
    expect(bad.map((o) => o.type)).toEqual(['malformed'])
    expect(bad[0]!.type === 'malformed' && bad[0]!.raw).toBe('<tool_call>{"name": "a", "arguments": {oops}}</tool_call>')
    const nameless = parse('<tool_call>{"arguments": {}}</tool_call>').outputs
    expect(nameless[0]!.type === 'malformed' && nameless[0]!.reason).toContain('name')
    expect(calls(parse('<tool_call>\n{"name": "late", "arguments": {"q": 1}}\n</tool_call').outputs)).toEqual([['late', { q: 1 }]])
    const cut = parse('<tool_call>{"name": "cut", "argu').outputs
    expect(cut.map((o) => o.type)).toEqual(['malformed'])
  })

  test('typos in the bridge’s own tags are repaired: < /tool_call>, </ tool_call>, <<tool_call>, <tool_call>>, </tool_call>>', () => {
    for (const source of [
      '<tool_call>{"name":"a","arguments":{}}< /tool_call>',
      '<tool_call >{"name":"a","arguments":{}}</ tool_call>',
      '<<tool_call>{"name":"a","arguments":{}}</tool_call>',
      '<tool_call>>{"name":"a","arguments":{}}</tool_call>>',
    ]) {
      for (const size of [1, 3, source.length]) {
        const { outputs } = parse(source, size)
        expect([source, size, calls(outputs), text(outputs)]).toEqual([source, size, [['a', {}]], ''])
      }
    }
  })

  test('code around and without calls passes through byte-identical in one-character deltas', () => {
    expect(text(parse(ALL_CODE, 1).outputs)).toBe(ALL_CODE)
    const { outputs } = parse(`${ALL_CODE}<tool_call>{"name":"a","arguments":{"code":"Vec<Vec<u8>>"}}</tool_call>`, 1)
    expect(text(outputs)).toBe(ALL_CODE)
    expect(calls(outputs)).toEqual([['a', { code: 'Vec<Vec<u8>>' }]])
  })
})
