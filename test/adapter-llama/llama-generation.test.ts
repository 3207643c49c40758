import createLlamaAdapter, { isPinnedVersion, LLAMA_CPP_VERSION, resolveLlamaLibrary } from '@cy/adapter-llama'
import { OutputChannel, type CompletionRequest, type LoadedModel, type OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { LlamaModel } from '../../packages/adapter-llama/src/llama-model.ts'
import { BOS_ALTERNATING_TEMPLATE, writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
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

  test('a prompt longer than the context is a 400 context_length_exceeded naming prompt', async () => {
    const error = await complete('z'.repeat(600)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect((error as { code?: string }).code).toBe('context_length_exceeded')
    expect((error as { param?: string }).param).toBe('prompt')
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
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==' } }] }],
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

/** The tiny vocabulary's ids: BOS is 1, each byte b is b + 5. */
const idsOf = (text: string) => [1, ...Array.from(new TextEncoder().encode(text), (byte) => byte + 5)]
const badRequest = async (promise: Promise<unknown>) => {
  const error = await promise.catch((e: unknown) => e)
  expect(error).toBeInstanceOf(OpenAI.BadRequestError)
  return error as { param?: string; code?: string; message: string }
}

describe('prompts', () => {
  test('a template that writes bos_token: the prompt starts with exactly one BOS', async () => {
    const path = await writeTinyLlama(join(dir, 'bos.gguf'), { chatTemplate: BOS_ALTERNATING_TEMPLATE })
    const model = await createLlamaAdapter({ quiet: true }).load({ name: 'bos', adapter: 'llama', path, options: { contextSize: 256, threads: 2, parallel: 1 } })
    const other = await startTestServer({}, (s) => s.registerModel('bos', model.providers))
    try {
      const bosClient = recordingClient(other.url).client
      const messages = [{ role: 'user' as const, content: 'hello' }]
      const result = await bosClient.chat.completions.create({ model: 'bos', temperature: 0, max_tokens: 12, messages })
      const plain = await client.chat.completions.create({ model: 'tiny', temperature: 0, max_tokens: 12, messages })
      // The same prompt as ChatML without bos_token, whose one BOS llama.cpp adds.
      expect(result.usage!.prompt_tokens).toBe(plain.usage!.prompt_tokens)
      expect(result.choices[0]!.message.content).toBe(referenceGreedy(libDir, path, chatPrompt('hello'), 12))
      // Its refusal of roles that do not alternate is the client's mistake.
      const error = await badRequest(
        bosClient.chat.completions.create({ model: 'bos', messages: [{ role: 'assistant', content: 'hi' }, { role: 'assistant', content: 'again' }] }),
      )
      expect(error.param).toBe('messages')
      expect(error.message).toContain('roles must alternate')
    } finally {
      await other.stop()
      await model.dispose()
    }
  })

  test('completions: a token-array prompt runs those tokens', async () => {
    const fromText = await complete('Onceuponatime', { max_tokens: 10 })
    const fromIds = await client.completions.create({ model: 'tiny', prompt: idsOf('Onceuponatime'), temperature: 0, max_tokens: 10 })
    expect(fromIds.choices[0]!.text).toBe(fromText.choices[0]!.text)
    expect(fromIds.usage!.prompt_tokens).toBe(fromText.usage!.prompt_tokens)
  })

  test('a list of prompts: one choice per prompt, in order, and their usage summed', async () => {
    const prompts = ['Onceupon', 'Atime', 'Thirdone']
    const alone = await Promise.all(prompts.map((prompt) => complete(prompt, { max_tokens: 6 })))
    const channel = new OutputChannel()
    const request = { model: 'tiny', prompt: [prompts[0], idsOf(prompts[1]!), prompts[2]], temperature: 0, max_tokens: 6 } as unknown as CompletionRequest
    const running = Promise.resolve(loaded.providers.completion!(request, channel))
    const chunks: OutputChunk[] = []
    for await (const chunk of channel) chunks.push(chunk)
    await running
    const texts = prompts.map((_, i) =>
      chunks
        .filter((c) => c.type === 'text-delta' && (c.index ?? 0) === i)
        .map((c) => (c as { text: string }).text)
        .join(''),
    )
    expect(texts).toEqual(alone.map((result) => result.choices[0]!.text))
    expect(chunks.filter((c) => c.type === 'finish').map((c) => (c as { index?: number }).index ?? 0).sort()).toEqual([0, 1, 2])
    const usage = chunks.filter((c) => c.type === 'usage')
    expect(usage.length).toBe(1)
    expect(usage[0]).toMatchObject({ promptTokens: alone.reduce((sum, r) => sum + r.usage!.prompt_tokens, 0), completionTokens: 18 })
  })

  test('more prompts than the model has slots: every one gets its choice, in order', async () => {
    // The model has 8 slots; a request's prompts beyond them wait their turn instead of flooding the engine.
    const prompts = Array.from({ length: 11 }, (_, i) => `Prompt${i}`)
    const result = await client.completions.create({ model: 'tiny', prompt: prompts, temperature: 0, max_tokens: 3 })
    expect(result.choices.map((choice) => choice.index)).toEqual(prompts.map((_, i) => i))
    const alone = await complete(prompts[10]!, { max_tokens: 3 })
    expect(result.choices[10]!.text).toBe(alone.choices[0]!.text)
  })

  test('token ids outside the vocabulary are a 400 naming prompt (completions) or input (embeddings)', async () => {
    for (const ids of [[999999], [-5], [2147483648]]) {
      expect((await badRequest(client.completions.create({ model: 'tiny', prompt: ids, max_tokens: 2 }))).param).toBe('prompt')
      expect((await badRequest(client.embeddings.create({ model: 'tiny', input: ids }))).param).toBe('input')
    }
  })

  test('embedding inputs longer than the model embeds at once are a 400 context_length_exceeded naming input', async () => {
    for (const input of ['word '.repeat(3000), Array.from({ length: 100_000 }, () => 7)]) {
      const error = await badRequest(client.embeddings.create({ model: 'tiny', input: input as string }))
      expect(error.code).toBe('context_length_exceeded')
      expect(error.param).toBe('input')
    }
  })

  test('logit_bias: keys must be token ids of the vocabulary, values from -100 to 100', async () => {
    for (const bias of [{ abc: 100 }, { '4294967299': 100 }, { '5': 1e30 }, { '-1': 5 }, { '261': 1 }, { '1.5': 1 }]) {
      expect((await badRequest(complete('x', { logit_bias: bias }))).param).toBe('logit_bias')
    }
    expect((await complete('x', { logit_bias: { '260': -100, '70': 100 }, max_tokens: 3 })).choices[0]!.text).toBe('AAA')
  })

  test('a chat message of megabytes is refused by its length at once, and the model goes on serving', async () => {
    const started = performance.now()
    const error = await badRequest(client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'word '.repeat(1_600_000) }] }))
    expect(error.code).toBe('context_length_exceeded')
    expect(error.param).toBe('messages')
    const many = await badRequest(client.chat.completions.create({ model: 'tiny', messages: Array.from({ length: 5_000 }, () => ({ role: 'user' as const, content: 'hi' })) }))
    expect(many.code).toBe('context_length_exceeded')
    expect(performance.now() - started).toBeLessThan(5_000)
    expect((await complete('still here', { max_tokens: 3 })).choices[0]!.text.length).toBe(3)
  })
})

describe('unloading a stuck engine', () => {
  test('dispose stops a Worker stuck in native code after its deadline', async () => {
    const path = await writeTinyLlama(join(dir, 'stuck.gguf'))
    const model = await LlamaModel.load({ name: 'stuck', adapter: 'llama', path, options: { contextSize: 256, threads: 1, parallel: 1, disposeTimeout: 200 } })
    // Whole, one call: seconds inside llama_tokenize, where the Worker cannot be reached.
    const stuck = model.host.call('tokenize', { text: 'word '.repeat(25_000), special: true }).catch(() => 'stopped')
    const started = performance.now()
    await model.dispose()
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(await stuck).toBe('stopped')
  })
})
