import { resolveLlamaLibrary } from '@cy/adapter-llama'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withReference } from '../fixtures/llama/reference-llama.ts'
import { writeTinyLlama, type TinyLlamaOptions } from '../fixtures/llama/tiny-llama.ts'
import { FIRST_LORA_SEED, SECOND_LORA_SEED, tinyLlamaLora, writeTinyLlamaLora } from '../fixtures/llama/tiny-lora.ts'
import { chatmlPrompt, referenceGreedy } from './reference-greedy.ts'

const dir = mkdtempSync(join(tmpdir(), 'cy-lora-'))
const modelPath = join(dir, 'tiny.gguf')
const firstLora = join(dir, 'first.gguf')
const secondLora = join(dir, 'second.gguf')
let libDir: string

const PROMPT = 'Once upon a time'
const CHAT = chatmlPrompt([{ role: 'user', content: 'hello' }])
const TOKENS = 12

beforeAll(async () => {
  libDir = (await resolveLlamaLibrary(undefined)).dir
  await writeTinyLlama(modelPath)
  await writeTinyLlamaLora(firstLora, { seed: FIRST_LORA_SEED })
  await writeTinyLlamaLora(secondLora, { seed: SECOND_LORA_SEED })
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** How many leading characters two texts share. */
const sharedPrefix = (a: string, b: string) => {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  return i
}

// One thread: two spin-waiting threads on a busy machine make a 12-token run take seconds instead of milliseconds.
const run = (prompt: string, loras: { path: string; scale: number }[] = [], model = modelPath) =>
  referenceGreedy(libDir, model, prompt, TOKENS, { loras, threads: 1 })
// Each run loads llama.cpp afresh; the same question asked again in another test reuses its answer
// (the determinism test calls `run` itself).
const answers = new Map<string, string>()
const greedy = (...args: Parameters<typeof run>) => {
  const key = JSON.stringify(args)
  if (!answers.has(key)) answers.set(key, run(...args))
  return answers.get(key)!
}

describe('the tiny LoRA adapter in llama.cpp', () => {
  test('loads onto the base it was written for, and is refused by a base of other shapes', async () => {
    const load = (model: string, lora: string) =>
      withReference(libDir, model, { contextSize: 64, sequences: 1, threads: 1, loras: [{ path: lora, scale: 1 }] }, () => 'loaded')
    expect(load(modelPath, firstLora)).toBe('loaded')
    const narrow = await writeTinyLlama(join(dir, 'narrow.gguf'), { embedding: 32 })
    expect(() => load(narrow, firstLora)).toThrow(/could not load the LoRA adapter/)
  })

  test('greedy text with it differs from the base model’s within the first few tokens, raw and chat', () => {
    for (const prompt of [PROMPT, CHAT]) {
      const base = greedy(prompt)
      const adapted = greedy(prompt, [{ path: firstLora, scale: 1 }])
      expect(base).toHaveLength(TOKENS)
      expect(adapted).toHaveLength(TOKENS)
      expect(sharedPrefix(base, adapted)).toBeLessThan(4)
    }
  })

  test('at scale 0 it is the base model', () => {
    expect(greedy(PROMPT, [{ path: firstLora, scale: 0 }])).toBe(greedy(PROMPT))
  })

  test('two adapters of different seeds give two different texts, and both at once a third', () => {
    const first = greedy(PROMPT, [{ path: firstLora, scale: 1 }])
    const second = greedy(PROMPT, [{ path: secondLora, scale: 1 }])
    const both = greedy(PROMPT, [{ path: firstLora, scale: 1 }, { path: secondLora, scale: 1 }])
    expect(sharedPrefix(first, second)).toBeLessThan(4)
    expect(new Set([greedy(PROMPT), first, second, both]).size).toBe(4)
  })

  test('is deterministic: the same seed writes the same bytes, and the same run gives the same text', () => {
    expect(Buffer.from(tinyLlamaLora({ seed: FIRST_LORA_SEED })).equals(Buffer.from(tinyLlamaLora({ seed: FIRST_LORA_SEED })))).toBe(true)
    expect(Buffer.from(tinyLlamaLora({ seed: FIRST_LORA_SEED })).equals(Buffer.from(tinyLlamaLora({ seed: SECOND_LORA_SEED })))).toBe(false)
    expect(run(CHAT, [{ path: firstLora, scale: 1 }])).toBe(run(CHAT, [{ path: firstLora, scale: 1 }]))
  })

  test('follows the base options it is given: a narrower, grouped-query base with other targets', async () => {
    const base: TinyLlamaOptions = { embedding: 32, heads: 4, kvHeads: 2, layers: 1, feedForward: 48 }
    const model = await writeTinyLlama(join(dir, 'gqa.gguf'), base)
    const lora = await writeTinyLlamaLora(join(dir, 'gqa-lora.gguf'), { base, targets: ['attn_k', 'attn_output', 'ffn_down'], rank: 2 })
    expect(sharedPrefix(greedy(PROMPT, [], model), greedy(PROMPT, [{ path: lora, scale: 1 }], model))).toBeLessThan(TOKENS)
  })
})
