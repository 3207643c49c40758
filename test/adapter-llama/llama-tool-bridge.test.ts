import createLlamaAdapter from '@cy/adapter-llama'
import type { LoadedModel } from '@cy/core'
import type { Server } from '@cy/http'
import Ajv from 'ajv'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { WEATHER_TOOL } from '../support/scripted-models.ts'
import { startTestServer } from '../support/test-server.ts'

// The text bridge on the real engine: a random-weight model cannot choose to call a tool, so a GBNF
// grammar (llama.cpp server's `grammar` field) makes it write exactly the markup under test. Its byte
// vocabulary turns every character into a token, so the markup arrives split across many deltas.
let dir: string
let loaded: LoadedModel
let server: Server

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-llama-bridge-'))
  const path = await writeTinyLlama(join(dir, 'tiny.gguf'))
  loaded = await createLlamaAdapter({ quiet: true }).load({ name: 'tiny', adapter: 'llama', path, options: { contextSize: 2048, threads: 2, parallel: 2 } })
  // As the server app registers it: with the adapter's own tool mode, which is the bridge.
  server = await startTestServer({}, (s) => s.registerModel('tiny', loaded.providers, { ...(loaded.toolCalls ? { toolCalls: loaded.toolCalls } : {}) }))
})
afterAll(async () => {
  await server?.stop()
  await loaded?.dispose()
  await rm(dir, { recursive: true, force: true })
})

/** A grammar whose only sentence is `text`. */
const exactly = (text: string) => `root ::= ${JSON.stringify(text)}`
const weatherCall = (city: string) => `<tool_call>\n{"name": "get_weather", "arguments": {"city": "${city}", "units": {"temperature": "celsius", "digits": [1, 2]}}}\n</tool_call>`

function ask(output: string, stream = false) {
  return {
    model: 'tiny',
    temperature: 0,
    max_tokens: 400,
    stream,
    messages: [{ role: 'user', content: 'weather?' }],
    tools: [WEATHER_TOOL.chat],
    grammar: exactly(output),
  }
}

describe('the text bridge on llama.cpp', () => {
  test('the adapter declares the bridge', () => {
    expect(loaded.toolCalls).toBe('bridge')
  })

  test('an XML call with nested JSON arguments comes back as a tool_calls entry, JSON and SSE', async () => {
    const { client, last } = recordingClient(server.url)
    const whole = await client.chat.completions.create(ask(`Sure.\n${weatherCall('Paris')}`) as never)
    assertMatchesSchema('CreateChatCompletionResponse', JSON.parse((await last()).text))
    const message = whole.choices[0]!.message
    expect(whole.choices[0]!.finish_reason).toBe('tool_calls')
    expect(message.content).toBe('Sure.\n')
    const call = message.tool_calls![0]!
    expect(call.type === 'function' && [call.function.name, JSON.parse(call.function.arguments)]).toEqual([
      'get_weather',
      { city: 'Paris', units: { temperature: 'celsius', digits: [1, 2] } },
    ])
    // The prompt carried the tool definitions (the bridge's system prompt), so it is much longer.
    const plain = await client.chat.completions.create({ model: 'tiny', temperature: 0, max_tokens: 1, messages: [{ role: 'user', content: 'weather?' }] })
    expect(whole.usage!.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens + 200)

    const streamed = await client.chat.completions.create(ask(`Sure.\n${weatherCall('Paris')}`, true) as never)
    const frames: Array<{ choices: Array<{ delta: { content?: string; tool_calls?: Array<{ function: { name: string; arguments: string } }> } }> }> = []
    for await (const frame of streamed as unknown as AsyncIterable<(typeof frames)[number]>) frames.push(frame)
    const deltas = frames.map((f) => f.choices[0]?.delta.content ?? '').filter(Boolean)
    expect(deltas.length).toBeGreaterThan(1)
    expect(deltas.join('')).toBe('Sure.\n')
    for (const delta of deltas) expect(delta).not.toContain('<')
    const calls = frames.flatMap((f) => f.choices[0]?.delta.tool_calls ?? [])
    expect(calls.map((c) => c.function.name)).toEqual(['get_weather'])
    for (const frame of sseFrames((await last()).text)) assertMatchesSchema('CreateChatCompletionStreamResponse', frame)
  })

  test('two calls at once', async () => {
    const { client } = recordingClient(server.url)
    const answer = await client.chat.completions.create(ask(`${weatherCall('Paris')}\n${weatherCall('Rome')}`) as never)
    expect(answer.choices[0]!.message.tool_calls!.map((c) => (c.type === 'function' ? JSON.parse(c.function.arguments).city : ''))).toEqual(['Paris', 'Rome'])
    const ids = answer.choices[0]!.message.tool_calls!.map((c) => c.id)
    expect(new Set(ids).size).toBe(2)
  })

  test('malformed markup stays text: the client sees what the model wrote, and no call', async () => {
    const { client } = recordingClient(server.url)
    const broken = '<tool_call>\n{"name": "get_weather", "arguments": {city: Paris}}\n</tool_call>'
    const answer = await client.chat.completions.create(ask(broken) as never)
    expect(answer.choices[0]!.message.tool_calls).toBeUndefined()
    expect(answer.choices[0]!.message.content).toBe(broken)
    expect(answer.choices[0]!.finish_reason).toBe('stop')
  })

  test('the Responses API gets a function_call item from the same markup', async () => {
    const { client } = recordingClient(server.url)
    const response = await client.responses.create({
      model: 'tiny',
      temperature: 0,
      max_output_tokens: 400,
      input: 'weather?',
      tools: [WEATHER_TOOL.responses],
      grammar: exactly(weatherCall('Oslo')),
    } as never)
    const calls = response.output.filter((item) => item.type === 'function_call') as Array<{ name: string; arguments: string }>
    expect(calls.map((call) => [call.name, JSON.parse(call.arguments).city])).toEqual([['get_weather', 'Oslo']])
  })
})

// What a random-weight model writes unconstrained is noise: whatever satisfies a schema below was made
// to by the grammar.
const FORECAST = {
  type: 'function' as const,
  function: {
    name: 'forecast',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', minLength: 2, maxLength: 6 },
        days: { type: 'integer', minimum: 1, maximum: 14 },
        units: { enum: ['celsius', 'fahrenheit'] },
        code: { type: 'string', pattern: '^[A-Z]{2}-[0-9]{3}$' },
      },
      required: ['city', 'days', 'units', 'code'],
      additionalProperties: false,
    },
  },
}
const OTHER = { type: 'function' as const, function: { name: 'other', parameters: { type: 'object', properties: { x: { type: 'boolean' } }, required: ['x'] } } }
const strictly = new Ajv({ strict: false })

describe('forced tool calls on llama.cpp', () => {
  const call = (extra: Record<string, unknown>) =>
    recordingClient(server.url).client.chat.completions.create({
      model: 'tiny',
      max_tokens: 300,
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [OTHER, FORECAST],
      ...extra,
    } as never)

  test('tool_choice required: the answer is a tool call whose arguments satisfy its schema, greedy and sampled', async () => {
    for (const sampling of [{ temperature: 0 }, { temperature: 1, seed: 7 }, { temperature: 1, seed: 8 }]) {
      const answer = await call({ tool_choice: 'required', ...sampling })
      const calls = answer.choices[0]!.message.tool_calls ?? []
      expect(calls.length).toBeGreaterThan(0)
      expect(answer.choices[0]!.finish_reason).toBe('tool_calls')
      for (const c of calls) {
        if (c.type !== 'function') throw new Error('not a function call')
        const tool = [OTHER, FORECAST].find((t) => t.function.name === c.function.name)!
        expect(strictly.validate(tool.function.parameters, JSON.parse(c.function.arguments))).toBe(true)
      }
    }
  })

  test('a named function: that function is called, with arguments its schema accepts', async () => {
    const answer = await call({ tool_choice: { type: 'function', function: { name: 'forecast' } }, temperature: 0, parallel_tool_calls: false })
    const calls = answer.choices[0]!.message.tool_calls ?? []
    expect(calls.map((c) => (c.type === 'function' ? c.function.name : ''))).toEqual(['forecast'])
    const args = JSON.parse(calls[0]!.type === 'function' ? calls[0]!.function.arguments : '{}')
    expect(strictly.validate(FORECAST.function.parameters, args)).toBe(true)
  })
})

describe('json_schema constraints on llama.cpp', () => {
  test('string lengths, enums, integer ranges, number ranges, patterns and formats are enforced in the output', async () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 3, maxLength: 5 },
        level: { enum: ['low', 'high'] },
        count: { type: 'integer', minimum: -3, maximum: 42 },
        ratio: { type: 'number', minimum: 0, maximum: 1 },
        code: { type: 'string', pattern: '^[a-c]{1,4}-\\d{2}$' },
        day: { type: 'string', format: 'date' },
      },
      required: ['name', 'level', 'count', 'ratio', 'code', 'day'],
      additionalProperties: false,
    }
    const validate = strictly.compile(schema)
    const { client } = recordingClient(server.url)
    for (const sampling of [{ temperature: 0 }, { temperature: 1, seed: 1 }, { temperature: 1, seed: 2 }]) {
      const result = await client.chat.completions.create({
        model: 'tiny',
        max_tokens: 400,
        ...sampling,
        response_format: { type: 'json_schema', json_schema: { name: 'r', schema } },
        messages: [{ role: 'user', content: 'JSON' }],
      })
      expect([result.choices[0]!.finish_reason, result.choices[0]!.message.content]).toEqual(['stop', expect.any(String)])
      const value = JSON.parse(result.choices[0]!.message.content!)
      expect([value, validate(value)]).toEqual([value, true])
      expect(/^\d{4}-\d{2}-\d{2}$/.test(value.day)).toBe(true)
    }
  })

  test('a keyword the grammar cannot enforce is a 400 naming it', async () => {
    const error = await recordingClient(server.url)
      .client.chat.completions.create({
        model: 'tiny',
        response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object', properties: { e: { type: 'string', format: 'email' } } } } },
        messages: [{ role: 'user', content: 'x' }],
      })
      .then(() => ({ status: 200, param: '', message: '' }), (e: { status: number; param: string; message: string }) => e)
    expect([error.status, error.param, error.message]).toEqual([400, 'response_format', expect.stringContaining("'format'")])
  })
})

