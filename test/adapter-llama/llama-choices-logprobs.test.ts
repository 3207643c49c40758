import createLlamaAdapter, { resolveLlamaLibrary } from '@cy/adapter-llama'
import type { LoadedModel } from '@cy/core'
import type { Server } from '@cy/http'
import { toArrayBuffer } from 'bun:ffi'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { withReference } from '../fixtures/llama/reference-llama.ts'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

let dir: string
let modelPath: string
let libDir: string
let loaded: LoadedModel
let server: Server
let client: OpenAI
let last: () => Promise<{ text: string }>

const PARALLEL = 4

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-llama-n-'))
  modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
  libDir = (await resolveLlamaLibrary(undefined)).dir
  loaded = await createLlamaAdapter({ quiet: true }).load({ name: 'tiny', adapter: 'llama', path: modelPath, options: { contextSize: 256, threads: 2, parallel: PARALLEL } })
  server = await startTestServer({}, (s) => s.registerModel('tiny', loaded.providers, { ...(loaded.supports ? { supports: loaded.supports } : {}) }))
  const recording = recordingClient(server.url)
  client = recording.client
  last = recording.last
})
afterAll(async () => {
  await server?.stop()
  await loaded?.dispose()
  await rm(dir, { recursive: true, force: true })
})

const user = (content: string) => [{ role: 'user' as const, content }]

/** llama.cpp's own log-softmax of the logits after the prompt: the reference the adapter's logprobs must equal. */
function referenceLogprobs(prompt: string): Float64Array {
  return withReference(libDir, modelPath, { contextSize: 256, sequences: 1, threads: 2 }, ({ native, context, vocab, greedy, prefill }) => {
    const { length } = prefill(prompt, greedy())
    const size = native.calls.llama_vocab_n_tokens(vocab)
    const logits = new Float32Array(toArrayBuffer(native.calls.llama_get_logits_ith(context, length - 1)!, 0, size * 4))
    let max = -Infinity
    for (const value of logits) max = Math.max(max, value)
    let sum = 0
    for (const value of logits) sum += Math.exp(value - max)
    const lse = max + Math.log(sum)
    return Float64Array.from(logits, (value) => value - lse)
  })
}

describe('n: several choices for one prompt', () => {
  test('greedy n=2 gives two identical choices; usage counts the prompt once and sums the completions', async () => {
    const single = await client.chat.completions.create({ model: 'tiny', messages: user('hello'), temperature: 0, max_tokens: 12 })
    const result = await client.chat.completions.create({ model: 'tiny', messages: user('hello'), temperature: 0, max_tokens: 12, n: 2 })
    assertMatchesSchema('CreateChatCompletionResponse', JSON.parse((await last()).text))
    expect(result.choices.map((choice) => choice.index)).toEqual([0, 1])
    expect(result.choices[0]!.message.content).toBe(single.choices[0]!.message.content)
    expect(result.choices[1]!.message.content).toBe(single.choices[0]!.message.content)
    expect(result.usage!.prompt_tokens).toBe(single.usage!.prompt_tokens)
    expect(result.usage!.completion_tokens).toBe(2 * single.usage!.completion_tokens)
  })

  test('with a temperature and a seed the choices differ, and the same request gives the same choices', async () => {
    const request = { model: 'tiny', prompt: 'Once upon a time', temperature: 1.5, max_tokens: 16, n: 3, seed: 7 }
    const first = await client.completions.create(request)
    assertMatchesSchema('CreateCompletionResponse', JSON.parse((await last()).text))
    const texts = first.choices.map((choice) => choice.text)
    expect(first.choices.map((choice) => choice.index)).toEqual([0, 1, 2])
    expect(new Set(texts).size).toBeGreaterThan(1)
    const again = await client.completions.create(request)
    expect(again.choices.map((choice) => choice.text)).toEqual(texts)
  })

  test('streamed choices carry their index and add up to the JSON answer', async () => {
    const request = { model: 'tiny', messages: user('stream it'), temperature: 0, max_tokens: 10, n: 2 } as const
    const json = await client.chat.completions.create(request)
    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } })
    const texts = ['', '']
    const finishes: Array<string | null> = [null, null]
    let usage: OpenAI.CompletionUsage | undefined
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? ''
        if (choice.finish_reason) finishes[choice.index] = choice.finish_reason
      }
      if (chunk.usage) usage = chunk.usage
    }
    for (const frame of sseFrames((await last()).text)) assertMatchesSchema('CreateChatCompletionStreamResponse', frame)
    expect(texts).toEqual(json.choices.map((choice) => choice.message.content ?? ''))
    expect(finishes).toEqual(['length', 'length'])
    expect(usage).toMatchObject({ prompt_tokens: json.usage!.prompt_tokens, completion_tokens: json.usage!.completion_tokens })
  })

  test('completions stream every choice with its index', async () => {
    const stream = await client.completions.create({ model: 'tiny', prompt: 'abc', temperature: 0, max_tokens: 8, n: 2, stream: true })
    const texts = ['', '']
    for await (const chunk of stream) for (const choice of chunk.choices) texts[choice.index] += choice.text
    expect(texts[0]!.length).toBe(8)
    expect(texts[1]).toBe(texts[0]!)
  })

  test(`n above the model's ${PARALLEL} parallel slots is a 400 naming n`, async () => {
    const error = await client.chat.completions.create({ model: 'tiny', messages: user('hi'), n: PARALLEL + 1 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n')
  })
})

describe('logprobs', () => {
  test('chat: each token has its logprob and top alternatives; the greedy token is the top one; values equal llama.cpp’s logits', async () => {
    const result = await client.chat.completions.create({ model: 'tiny', messages: user('hello'), temperature: 0, max_tokens: 6, logprobs: true, top_logprobs: 3 })
    assertMatchesSchema('CreateChatCompletionResponse', JSON.parse((await last()).text))
    const content = result.choices[0]!.logprobs!.content!
    expect(content.length).toBe(result.usage!.completion_tokens)
    expect(content.map((entry) => entry.token).join('')).toBe(result.choices[0]!.message.content!)
    for (const entry of content) {
      expect(entry.top_logprobs.length).toBe(3)
      expect(entry.top_logprobs[0]!.token).toBe(entry.token)
      expect(entry.top_logprobs[0]!.logprob).toBe(entry.logprob)
      expect(entry.logprob).toBeLessThanOrEqual(0)
      expect(entry.top_logprobs[1]!.logprob).toBeLessThanOrEqual(entry.top_logprobs[0]!.logprob)
      expect(Buffer.from(entry.bytes!).toString('utf8')).toBe(entry.token)
    }
    const reference = referenceLogprobs('<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n')
    const ranked = [...reference.keys()].sort((a, b) => reference[b]! - reference[a]!)
    content[0]!.top_logprobs.forEach((alternative, i) => expect(alternative.logprob).toBeCloseTo(reference[ranked[i]!]!, 4))
  })

  test('chat streaming: every content frame carries the logprobs of its tokens', async () => {
    const stream = await client.chat.completions.create({ model: 'tiny', messages: user('hello'), temperature: 0, max_tokens: 6, logprobs: true, top_logprobs: 2, stream: true })
    const tokens: string[] = []
    let text = ''
    for await (const chunk of stream) {
      const choice = chunk.choices[0]
      text += choice?.delta.content ?? ''
      for (const entry of choice?.logprobs?.content ?? []) {
        expect(entry.top_logprobs.length).toBe(2)
        tokens.push(entry.token)
      }
    }
    for (const frame of sseFrames((await last()).text)) assertMatchesSchema('CreateChatCompletionStreamResponse', frame)
    expect(tokens.length).toBe(6)
    expect(tokens.join('')).toBe(text)
  })

  test('without logprobs the field is null', async () => {
    const result = await client.chat.completions.create({ model: 'tiny', messages: user('hello'), temperature: 0, max_tokens: 2 })
    expect(result.choices[0]!.logprobs).toBeNull()
  })

  test('completions: the legacy shape (tokens, token_logprobs, top_logprobs, text_offset), JSON and SSE', async () => {
    const result = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', temperature: 0, max_tokens: 5, logprobs: 2 })
    assertMatchesSchema('CreateCompletionResponse', JSON.parse((await last()).text))
    const logprobs = result.choices[0]!.logprobs!
    expect(logprobs.tokens!.join('')).toBe(result.choices[0]!.text)
    expect(logprobs.token_logprobs!.length).toBe(5)
    expect(logprobs.text_offset).toEqual(logprobs.tokens!.map((_, i) => logprobs.tokens!.slice(0, i).join('').length))
    logprobs.top_logprobs!.forEach((top, i) => {
      expect(Object.keys(top).length).toBe(2)
      expect(top[logprobs.tokens![i]!]).toBe(logprobs.token_logprobs![i]!)
    })
    const reference = referenceLogprobs('Once upon a time')
    expect(logprobs.token_logprobs![0]!).toBeCloseTo(Math.max(...reference), 4)

    const stream = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', temperature: 0, max_tokens: 5, logprobs: 2, stream: true })
    const streamed: string[] = []
    for await (const chunk of stream) streamed.push(...(chunk.choices[0]?.logprobs?.tokens ?? []))
    expect(streamed).toEqual(logprobs.tokens!)
  })

  test('echo with logprobs (prompt logprobs) and suffix are refused as unsupported, naming the field', async () => {
    for (const [extra, param] of [
      [{ echo: true, logprobs: 1 }, 'echo'],
      [{ suffix: 'the end' }, 'suffix'],
    ] as const) {
      const error = await client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 2, ...extra }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param)
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('unsupported_parameter')
    }
  })
})
