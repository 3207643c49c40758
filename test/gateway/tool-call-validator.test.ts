import { ToolCallValidator } from '@cy/gateway'
import { describe, expect, test } from 'bun:test'

const validator = new ToolCallValidator([
  {
    type: 'function',
    function: {
      name: 'write_file',
      parameters: {
        type: 'object',
        properties: { path: { type: 'string' }, content: { type: 'string' }, mode: { type: 'integer', minimum: 0 } },
        required: ['path', 'content'],
        additionalProperties: false,
      },
    },
  },
])
const call = (args: unknown, name = 'write_file') => ({ name, arguments: typeof args === 'string' ? args : JSON.stringify(args) })

describe('tool call validation', () => {
  test('none trusts the model', () => {
    expect(validator.validate(call('not json', 'no_such_tool'), 'none').valid).toBe(true)
  })

  test('relaxed wants a known tool, an object, and the required fields present and not empty', () => {
    expect(validator.validate(call({ path: 'a', content: 'b', extra: true, mode: 'x' }), 'relaxed').valid).toBe(true)
    expect(validator.validate(call({ path: 'a' }, 'no_such_tool'), 'relaxed')).toEqual({ valid: false, message: "no tool is named 'no_such_tool'" })
    expect(validator.validate(call('{broken'), 'relaxed').valid).toBe(false)
    expect(validator.validate(call([1]), 'relaxed').valid).toBe(false)
    expect(validator.validate(call({ path: 'a', content: '' }), 'relaxed')).toEqual({ valid: false, message: "'write_file' needs 'content'" })
  })

  test('strict checks the whole JSON Schema', () => {
    expect(validator.validate(call({ path: 'a', content: '' }), 'strict').valid).toBe(true)
    const wrongType = validator.validate(call({ path: 'a', content: 'b', mode: -1 }), 'strict')
    expect(wrongType.valid).toBe(false)
    expect(!wrongType.valid && wrongType.message).toContain('/mode')
    expect(validator.validate(call({ path: 'a', content: 'b', extra: 1 }), 'strict').valid).toBe(false)
    expect(validator.validate(call({ path: 'a' }), 'strict').valid).toBe(false)
  })
})
