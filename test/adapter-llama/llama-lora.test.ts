import createLlamaAdapter, { resolveLlamaLibrary } from '@cy/adapter-llama'
import type { LoadedModel } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { FIRST_LORA_SEED, SECOND_LORA_SEED, writeTinyLlamaLora } from '../fixtures/llama/tiny-lora.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { startTestServer } from '../support/test-server.ts'
import { chatmlPrompt, referenceGreedy } from './reference-greedy.ts'

// LoRA adapters at inference: llama_adapter_lora_init once per adapter, llama_set_adapters_lora per step
// (one adapter set per llama_decode: steps take the sets of the waiting sequences in turn), compared with
// llama.cpp's own greedy loop with the same adapter set on its context.
const dir = mkdtempSync(join(tmpdir(), 'cy-lora-'))
const loraDir = join(dir, 'loras')
let modelPath: string
let libDir: string
let loaded: LoadedModel
let server: Server
let client: OpenAI
const TOKENS = 16

beforeAll(async () => {
  mkdirSync(loraDir)
  modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
  await writeTinyLlamaLora(join(loraDir, 'pirate.gguf'), { seed: FIRST_LORA_SEED })
  await writeTinyLlamaLora(join(loraDir, 'poet.gguf'), { seed: SECOND_LORA_SEED })
  libDir = (await resolveLlamaLibrary(undefined)).dir
  loaded = await createLlamaAdapter({ quiet: true }).load({ name: 'tiny', adapter: 'llama', path: modelPath, options: { contextSize: 512, threads: 2, parallel: 4, loraDir } })
  server = await startTestServer({}, (s) => s.registerModel('tiny', loaded.providers, { supports: loaded.supports, metadata: loaded.metadata }))
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0 })
})
afterAll(async () => {
  await server?.stop()
  await loaded?.dispose()
  rmSync(dir, { recursive: true, force: true })
})

const complete = async (prompt: string, adapter?: string) =>
  (await client.completions.create({ model: 'tiny', prompt, temperature: 0, max_tokens: TOKENS, ...(adapter ? { adapter } : {}) } as OpenAI.CompletionCreateParamsNonStreaming)).choices[0]!.text
const reference = (prompt: string, adapter?: string) =>
  referenceGreedy(libDir, modelPath, prompt, TOKENS, adapter ? { loras: [{ path: join(loraDir, `${adapter}.gguf`), scale: 1 }] } : {})

describe('LoRA adapters through the llama adapter', () => {
  test('greedy text with an adapter equals llama.cpp’s own loop with it applied, and differs from the base model’s', async () => {
    const prompt = 'Once upon a time'
    const base = await complete(prompt)
    const pirate = await complete(prompt, 'pirate')
    expect(base).toBe(reference(prompt))
    expect(pirate).toBe(reference(prompt, 'pirate'))
    expect(pirate).not.toBe(base)
  })

  test('chat takes the adapter too, on the prompt its template renders', async () => {
    const result = await client.chat.completions.create({ model: 'tiny', temperature: 0, max_tokens: TOKENS, messages: [{ role: 'user', content: 'hello' }], adapter: 'poet' } as OpenAI.ChatCompletionCreateParamsNonStreaming)
    expect(result.choices[0]!.message.content).toBe(reference(chatmlPrompt([{ role: 'user', content: 'hello' }]), 'poet'))
  })

  test('requests with different adapters and none, interleaved in one batch, each get their own output', async () => {
    const prompts = ['The sea', 'The sky', 'The land', 'The sea']
    const adapters = [undefined, 'pirate', 'poet', 'pirate']
    const results = await Promise.all(prompts.map((prompt, i) => complete(prompt, adapters[i])))
    prompts.forEach((prompt, i) => expect(results[i]).toBe(reference(prompt, adapters[i])))
  })

  test('a cache computed under one adapter is not reused under another', async () => {
    const prompt = 'A long shared beginning of a prompt'
    await complete(prompt)
    const under = await client.completions.create({ model: 'tiny', prompt, temperature: 0, max_tokens: TOKENS, adapter: 'pirate' } as OpenAI.CompletionCreateParamsNonStreaming)
    expect(under.choices[0]!.text).toBe(reference(prompt, 'pirate'))
    // At most the BOS an earlier request under the same adapter left: none of the base model's cache of this text.
    expect(under.usage!.prompt_tokens_details?.cached_tokens ?? 0).toBeLessThanOrEqual(1)
    // Under the same adapter it is reused: all but the last token, decoded again for its output row.
    const again = await client.completions.create({ model: 'tiny', prompt, temperature: 0, max_tokens: TOKENS, adapter: 'pirate' } as OpenAI.CompletionCreateParamsNonStreaming)
    expect(again.usage!.prompt_tokens_details?.cached_tokens).toBe(again.usage!.prompt_tokens - 1)
    expect(again.choices[0]!.text).toBe(under.choices[0]!.text)
  })

  test('an adapter not in the folder, or a path, is a 400 naming `adapter`; a model without adapters refuses none silently', async () => {
    for (const adapter of ['sailor', '../tiny', '/etc/passwd', 'loras/pirate']) {
      const error = await complete('x', adapter).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('adapter')
      expect((error as Error).message).toContain('pirate, poet')
    }
  })

  test('the model lists its adapters', () => {
    expect(loaded.metadata).toMatchObject({ loraAdapters: ['pirate', 'poet'] })
  })

  test('the adapter GGUFs are not offered as models of their own', async () => {
    const adapter = createLlamaAdapter({ quiet: true })
    const path = join(loraDir, 'pirate.gguf')
    const claim = await adapter.canLoad(path, new Uint8Array(await Bun.file(path).slice(0, 64).arrayBuffer()))
    expect(claim.claim).toBe(false)
    expect((claim as { reason?: string }).reason).toContain('LoRA adapter')
  })
})
