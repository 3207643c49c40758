import createLlamaAdapter, { isPinnedVersion, LLAMA_CPP_VERSION, resolveLlamaLibrary } from '@cy/adapter-llama'
import type { LoadedModel } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { recordingClient } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'
import { referenceGreedy } from './reference-greedy.ts'

let dir: string
let modelPath: string
let loaded: LoadedModel
let server: Server
let client: OpenAI
let libDir: string

const chatPrompt = (user: string) => `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-llama-'))
  modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
  libDir = (await resolveLlamaLibrary(undefined)).dir
  loaded = await createLlamaAdapter({ quiet: true }).load({
    name: 'tiny',
    adapter: 'llama',
    path: modelPath,
    options: { contextSize: 512, threads: 2, parallel: 8 },
  })
  server = await startTestServer({}, (s) => s.registerModel('tiny', loaded.providers))
  client = recordingClient(server.url).client
})
afterAll(async () => {
  await server?.stop()
  await loaded?.dispose()
  await rm(dir, { recursive: true, force: true })
})

const complete = async (prompt: string, extra: Record<string, unknown> = {}) =>
  client.completions.create({ model: 'tiny', prompt, temperature: 0, max_tokens: 24, ...extra })

describe('llama.cpp through the adapter', () => {
  test('greedy completions equal llama.cpp’s own greedy loop on the same model and prompt', async () => {
    const result = await complete('Once upon a time')
    expect(result.choices[0]!.text).toBe(referenceGreedy(libDir, modelPath, 'Once upon a time', 24))
    expect(result.choices[0]!.text.length).toBe(24)
    // BOS, then one byte token per character; SentencePiece writes each space as '▁', three bytes.
    expect(result.usage).toMatchObject({ prompt_tokens: 1 + 13 + 3 * 3, completion_tokens: 24, total_tokens: 23 + 24 })
  })

  test('greedy chat equals the reference on the prompt the chat template renders', async () => {
    const result = await client.chat.completions.create({ model: 'tiny', temperature: 0, max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] })
    expect(result.choices[0]!.message.content).toBe(referenceGreedy(libDir, modelPath, chatPrompt('hello'), 20))
  })

  test('stop strings end the output before them, across token boundaries, and are never sent', async () => {
    const full = (await complete('The answer is', { max_tokens: 40 })).choices[0]!.text
    const stop = full.slice(12, 15)
    const cut = full.indexOf(stop)
    const stopped = await complete('The answer is', { max_tokens: 40, stop: [stop, 'never-there'] })
    expect(stopped.choices[0]!.text).toBe(full.slice(0, cut))
    expect(stopped.choices[0]!.finish_reason).toBe('stop')
    const stream = await client.completions.create({ model: 'tiny', prompt: 'The answer is', temperature: 0, max_tokens: 40, stop, stream: true })
    let streamed = ''
    for await (const chunk of stream) streamed += chunk.choices[0]?.text ?? ''
    expect(streamed).toBe(full.slice(0, cut))
  })

  test('an end-of-generation token ends with finish_reason stop (forced with logit_bias)', async () => {
    const result = await complete('x', { logit_bias: { '2': 100 } })
    expect(result.choices[0]!.text).toBe('')
    expect(result.choices[0]!.finish_reason).toBe('stop')
    expect(result.usage?.completion_tokens).toBe(0)
  })

  test('8 concurrent streams each produce exactly what they produce alone', async () => {
    const prompts = Array.from({ length: 8 }, (_, i) => `prompt number ${i}: ${'abc'.repeat(i)}`)
    const alone: string[] = []
    for (const prompt of prompts) alone.push((await complete(prompt, { max_tokens: 32 })).choices[0]!.text)
    const together = await Promise.all(
      prompts.map(async (prompt) => {
        const stream = await client.completions.create({ model: 'tiny', prompt, temperature: 0, max_tokens: 32, stream: true })
        let text = ''
        for await (const chunk of stream) text += chunk.choices[0]?.text ?? ''
        return text
      }),
    )
    expect(together).toEqual(alone)
    expect(new Set(alone).size).toBeGreaterThan(1)
  })

  test('a seed makes sampling at temperature > 0 repeatable', async () => {
    const draw = async (seed: number) => (await complete('Roll the dice', { temperature: 1.2, top_k: 40, top_p: 0.95, seed })).choices[0]!.text
    const first = await draw(7)
    expect(await draw(7)).toBe(first)
    const others = await Promise.all([draw(8), draw(9), draw(10)])
    expect(others.some((text) => text !== first)).toBe(true)
  })

  test('penalties and min_p are accepted and change nothing about determinism', async () => {
    const once = await complete('Repeat repeat repeat', { repeat_penalty: 1.3, presence_penalty: 0.5, frequency_penalty: 0.5, min_p: 0.05 })
    const twice = await complete('Repeat repeat repeat', { repeat_penalty: 1.3, presence_penalty: 0.5, frequency_penalty: 0.5, min_p: 0.05 })
    expect(twice.choices[0]!.text).toBe(once.choices[0]!.text)
    const plain = await complete('Repeat repeat repeat')
    expect(once.choices[0]!.text).not.toBe(plain.choices[0]!.text)
  })

  test('a prompt longer than the context is a 400 context_length_exceeded', async () => {
    const error = await complete('z'.repeat(600)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect((error as { code?: string }).code).toBe('context_length_exceeded')
  })

  test('embeddings: the model’s width, unit length, different texts differ', async () => {
    const result = await client.embeddings.create({ model: 'tiny', input: ['alpha', 'beta'], encoding_format: 'float' })
    expect(result.data[0]!.embedding.length).toBe(64)
    expect(Math.hypot(...result.data[0]!.embedding)).toBeCloseTo(1, 4)
    expect(result.data[0]!.embedding).not.toEqual(result.data[1]!.embedding)
    expect(result.usage.prompt_tokens).toBe(1 + 5 + (1 + 4))
  })
})

describe('library resolution', () => {
  test('an explicit folder without llama.cpp is logged and skipped; the packages come next', async () => {
    const lines: string[] = []
    const found = await resolveLlamaLibrary(dir, (line) => lines.push(line))
    expect(found.source).toStartWith('@node-llama-cpp/')
    expect(found.dir).toBe(libDir)
    expect(lines.some((line) => line.includes(`libDir (${dir})`))).toBe(true)
  })

  test('the pinned version is the only one accepted', () => {
    expect(isPinnedVersion(LLAMA_CPP_VERSION)).toBe(true)
    expect(isPinnedVersion(`${LLAMA_CPP_VERSION}-dev`)).toBe(true)
    expect(isPinnedVersion('0.4.9')).toBe(false)
    expect(isPinnedVersion(`${LLAMA_CPP_VERSION}1`)).toBe(false)
  })
})

describe('cancellation', () => {
  test('a client that leaves mid-stream: a one-slot model goes on to serve the next request', async () => {
    const path = await writeTinyLlama(join(dir, 'one-slot.gguf'))
    const model = await createLlamaAdapter({ quiet: true }).load({ name: 'one', adapter: 'llama', path, options: { contextSize: 4096, threads: 2, parallel: 1 } })
    const other = await startTestServer({}, (s) => s.registerModel('one', model.providers))
    try {
      const leaving = new AbortController()
      // Without a limit this would generate 4,000 tokens and hold the only slot.
      const response = await fetch(`${other.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'one', prompt: 'go on forever', temperature: 0, stream: true }),
        signal: leaving.signal,
      })
      await response.body!.getReader().read()
      leaving.abort()
      const next = await recordingClient(other.url).client.completions.create({ model: 'one', prompt: 'next', temperature: 0, max_tokens: 4 })
      expect(next.choices[0]!.text.length).toBe(4)
      expect(next.choices[0]!.finish_reason).toBe('length')
    } finally {
      await other.stop()
      await model.dispose()
    }
  })
})

describe('JSON mode through a grammar', () => {
  const schema = {
    type: 'object',
    properties: {
      answer: { enum: ['yes', 'no'] },
      confident: { type: 'boolean' },
      count: { type: 'integer' },
      tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 },
      note: { anyOf: [{ type: 'null' }, { $ref: '#/$defs/level' }] },
    },
    required: ['answer', 'confident', 'count', 'tags', 'note'],
    additionalProperties: false,
    $defs: { level: { enum: ['low', 'high'] } },
  }

  test('json_schema: the output parses and the schema accepts it, greedy and sampled', async () => {
    const Ajv = (await import('ajv')).default
    const validate = new Ajv().compile(schema)
    for (const [temperature, seed] of [
      [0, 1],
      [0.9, 2],
      [0.9, 3],
    ] as const) {
      const result = await client.chat.completions.create({
        model: 'tiny',
        temperature,
        seed,
        max_tokens: 300,
        response_format: { type: 'json_schema', json_schema: { name: 'reply', schema, strict: true } },
        messages: [{ role: 'user', content: 'answer in JSON' }],
      })
      expect(result.choices[0]!.finish_reason).toBe('stop')
      const parsed = JSON.parse(result.choices[0]!.message.content!)
      expect(validate(parsed)).toBe(true)
    }
  })

  test('json_object: every answer that ends parses as an object', async () => {
    const endings = []
    for (const seed of [1, 2, 3, 4, 5]) {
      const result = await client.chat.completions.create({
        model: 'tiny',
        temperature: 0.9,
        seed,
        max_tokens: 200,
        response_format: { type: 'json_object' },
        messages: [{ role: 'user', content: 'JSON please' }],
      })
      const content = result.choices[0]!.message.content!
      expect(content.startsWith('{')).toBe(true)
      if (result.choices[0]!.finish_reason === 'stop') endings.push(JSON.parse(content))
    }
    expect(endings.length).toBeGreaterThan(0)
    for (const value of endings) expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true)
  })

  test('a schema the grammar cannot express is a 400 naming response_format', async () => {
    const error = await client.chat.completions
      .create({
        model: 'tiny',
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { a: { $ref: 'http://elsewhere/schema' } } } } },
        messages: [{ role: 'user', content: 'x' }],
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect((error as { param?: string }).param).toBe('response_format')
  })
})

describe('prefix reuse', () => {
  const cachedTokens = (usage: unknown) => (usage as { prompt_tokens_details?: { cached_tokens: number } }).prompt_tokens_details?.cached_tokens

  test('a prompt that starts like an earlier one reuses its cache, and the answer is unchanged', async () => {
    const base = 'A long shared beginning that many requests repeat. '
    const first = await complete(`${base}First question?`, { max_tokens: 8 })
    // The same request again reuses all but the last prompt token, and answers exactly as before.
    const again = await complete(`${base}First question?`, { max_tokens: 8 })
    expect(cachedTokens(again.usage)).toBe(again.usage!.prompt_tokens - 1)
    expect(again.choices[0]!.text).toBe(first.choices[0]!.text)
    expect(again.choices[0]!.text).toBe(referenceGreedy(libDir, modelPath, `${base}First question?`, 8))
    // Another question on the same beginning evaluates only its own end.
    const second = await complete(`${base}Second question?`, { max_tokens: 8 })
    expect(cachedTokens(second.usage)).toBeGreaterThanOrEqual(new TextEncoder().encode(base).length)
    expect(cachedTokens(second.usage)).toBeLessThan(second.usage!.prompt_tokens)
    expect(second.choices[0]!.text).toBe(referenceGreedy(libDir, modelPath, `${base}Second question?`, 8))
  })
})

describe('chat templates', () => {
  test('a model without a Jinja template falls back to llama.cpp’s built-in ones (ChatML here)', async () => {
    const path = await writeTinyLlama(join(dir, 'no-template.gguf'), { chatTemplate: null })
    const model = await createLlamaAdapter({ quiet: true }).load({ name: 'plain', adapter: 'llama', path, options: { contextSize: 256, threads: 2, parallel: 1 } })
    try {
      const other = await startTestServer({}, (s) => s.registerModel('plain', model.providers))
      try {
        const result = await recordingClient(other.url).client.chat.completions.create({
          model: 'plain',
          temperature: 0,
          max_tokens: 12,
          messages: [{ role: 'user', content: 'hello' }],
        })
        expect(result.choices[0]!.message.content).toBe(referenceGreedy(libDir, path, chatPrompt('hello'), 12))
      } finally {
        await other.stop()
      }
    } finally {
      await model.dispose()
    }
  })

  test('image parts are refused by a text-only model with a 400 naming the part', async () => {
    const error = await client.chat.completions
      .create({
        model: 'tiny',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }],
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect((error as { param?: string }).param).toBe('messages[0].content')
  })
})

describe('unloading', () => {
  test('disposing a model mid-stream ends the stream with an error, not a crash', async () => {
    const path = await writeTinyLlama(join(dir, 'doomed.gguf'))
    const model = await createLlamaAdapter({ quiet: true }).load({ name: 'doomed', adapter: 'llama', path, options: { contextSize: 512, threads: 2, parallel: 2 } })
    const other = await startTestServer({}, (s) => s.registerModel('doomed', model.providers))
    try {
      const response = await fetch(`${other.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'doomed', prompt: 'go', temperature: 0, stream: true }),
      })
      const reader = response.body!.getReader()
      await reader.read()
      await model.dispose()
      let text = ''
      for (let part = await reader.read(); !part.done; part = await reader.read()) text += new TextDecoder().decode(part.value)
      expect(text).toContain('"error"')
      expect(text).not.toContain('[DONE]')
      // The process is alive and the other model still answers.
      expect((await complete('still here', { max_tokens: 3 })).choices[0]!.text.length).toBe(3)
    } finally {
      await other.stop()
    }
  })
})
