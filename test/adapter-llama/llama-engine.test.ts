import { resolveLlamaLibrary } from '@cy/adapter-llama'
import { BadRequestError, CancelledError, ProviderError } from '@cy/core'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LlamaEngine } from '../../packages/adapter-llama/src/engine/llama-engine.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { chunksArrived, failNextDecode, greedyArgs, recordingSink, samplerCount, stalledReader } from './engine-doubles.ts'

let dir: string
let engine: LlamaEngine

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-llama-engine-'))
  const modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
  const { dir: libDir } = await resolveLlamaLibrary(undefined)
  engine = new LlamaEngine({
    libDir,
    modelPath,
    contextSize: 2048,
    batchSize: 512,
    parallel: 2,
    // One thread: on a busy machine a second one waiting for its core stalls every decode.
    threads: 1,
    gpuLayers: 0,
    flashAttention: 'auto',
    embeddings: true,
    pooling: 'mean',
  })
})
afterAll(async () => {
  await engine?.dispose()
  await rm(dir, { recursive: true, force: true })
})

describe('the batch scheduler', () => {
  test('a client that leaves stops its sequence within a step and frees its slot', async () => {
    const out = recordingSink(3)
    // Unlimited: alone it would run to the end of its 2,048-token context.
    const result = await engine.generate(greedyArgs({ prompt: 'go on and on' }), out)
    expect(result.finishReason).toBe('cancelled')
    expect(result.completionTokens).toBeLessThanOrEqual(4)
    expect(engine.scheduler.active).toBe(0)
  })

  test('a request waiting for a slot runs once a client that stopped reading leaves', async () => {
    // Both slots held by requests whose clients stop reading after 3 tokens (the scheduler sleeps), one
    // request waiting; then those clients leave. The slots they free must go to the waiting request.
    const readers = [stalledReader(3), stalledReader(3)]
    const running = readers.map((out) => engine.generate(greedyArgs({ prompt: 'go on and on' }), out))
    await Promise.all(readers.map((out) => out.stalled))
    const next = engine.generate(greedyArgs({ prompt: 'next one', maxTokens: 4 }), recordingSink())
    for (const out of readers) out.leave()
    const settled = await Promise.race([next.then(() => 'served'), Bun.sleep(20_000).then(() => 'stuck')])
    expect(settled).toBe('served')
    expect((await next).completionTokens).toBe(4)
    for (const result of await Promise.all(running)) expect(result.finishReason).toBe('cancelled')
    expect(engine.scheduler.active).toBe(0)
  })

  test('sequences that join while others run get the same tokens as alone', async () => {
    const alone = recordingSink()
    await engine.generate(greedyArgs({ prompt: 'joining late', maxTokens: 16 }), alone)
    const early = recordingSink()
    const running = engine.generate(greedyArgs({ prompt: 'already running', maxTokens: 64 }), early)
    // Join after the first sequence has produced some tokens.
    while (early.chunks.length < 5) await Bun.sleep(1)
    const late = recordingSink()
    await engine.generate(greedyArgs({ prompt: 'joining late', maxTokens: 16 }), late)
    await running
    expect(late.text()).toBe(alone.text())
    expect(engine.scheduler.active).toBe(0)
  })
})

/** The error a promise rejects with. */
const rejection = (promise: Promise<unknown>) => promise.then(
  () => undefined,
  (error: unknown) => error,
)

describe('prompts', () => {
  test('a prompt that starts with a rendered BOS (a template writing bos_token) has exactly one BOS', async () => {
    const bos = engine.native.calls.llama_vocab_bos(engine.vocab)
    const tokens = await engine.promptTokens('<s>hello', 'prompt', recordingSink())
    expect(tokens![0]).toBe(bos)
    expect(tokens![1]).not.toBe(bos)
    const plain = await engine.generate(greedyArgs({ prompt: 'hello', maxTokens: 4 }), recordingSink())
    const rendered = await engine.generate(greedyArgs({ prompt: '<s>hello', maxTokens: 4 }), recordingSink())
    expect(rendered.promptTokens).toBe(plain.promptTokens)
  })

  test('token ids pass through as the prompt; ids outside the vocabulary are a 400 naming the parameter', async () => {
    const ids = Array.from(engine.tokenize('hello there', true))
    const fromText = recordingSink()
    const fromIds = recordingSink()
    const a = await engine.generate(greedyArgs({ prompt: 'hello there', maxTokens: 8 }), fromText)
    const b = await engine.generate(greedyArgs({ prompt: ids, maxTokens: 8 }), fromIds)
    expect(fromIds.text()).toBe(fromText.text())
    expect(b.promptTokens).toBe(a.promptTokens)
    for (const bad of [[999999], [-5], [2147483648], [1.5], []]) {
      const error = await rejection(engine.generate(greedyArgs({ prompt: bad, maxTokens: 2 }), recordingSink()))
      expect(error).toBeInstanceOf(BadRequestError)
      expect((error as BadRequestError).param).toBe('prompt')
    }
  })

  test('a prompt far longer than the context is refused by its length before it is tokenized', async () => {
    // 150 KB: tokenizing it whole takes this tokenizer seconds; its bytes alone say it cannot fit.
    const started = performance.now()
    const error = await rejection(engine.generate(greedyArgs({ prompt: 'word '.repeat(30_000), promptParam: 'messages' }), recordingSink()))
    expect(performance.now() - started).toBeLessThan(250)
    expect(error).toBeInstanceOf(BadRequestError)
    expect((error as BadRequestError).code).toBe('context_length_exceeded')
    expect((error as BadRequestError).param).toBe('messages')
  })

  test('a long prompt is tokenized in slices: the same tokens as whole, and a running stream goes on meanwhile', async () => {
    const text = Array.from({ length: 1200 }, (_, i) => `line ${i} says  something,\n\nand more `).join('')
    expect(Array.from((await engine.promptTokens(text, 'prompt', recordingSink()))!)).toEqual(Array.from(engine.tokenize(text, true)))
    const stream = recordingSink()
    const running = engine.generate(greedyArgs({ prompt: 'keep talking', maxTokens: 400 }), stream)
    await chunksArrived(stream, 2)
    const before = stream.chunks.length
    // Longer than the context (2,048): refused after tokenizing, which must not hold up the stream.
    const error = await rejection(engine.generate(greedyArgs({ prompt: text }), recordingSink()))
    expect((error as BadRequestError).code).toBe('context_length_exceeded')
    expect((error as BadRequestError).param).toBe('prompt')
    expect(stream.chunks.length).toBeGreaterThan(before)
    await running
  })
})

describe('failures and resources', () => {
  test('a failed llama_decode fails only the requests in that batch; slots, caches and samplers come back', async () => {
    const samplers = samplerCount(engine.native)
    const alone = recordingSink()
    await engine.generate(greedyArgs({ prompt: 'after a failure', maxTokens: 12 }), alone)
    const fault = failNextDecode(engine.native, engine.context)
    const outcomes = await Promise.allSettled([
      engine.generate(greedyArgs({ prompt: 'first victim', maxTokens: 20 }), recordingSink()),
      engine.generate(greedyArgs({ prompt: 'second victim', maxTokens: 20 }), recordingSink()),
    ])
    expect(fault.failed()).toBe(true)
    const failures = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason)
    expect(failures.length).toBeGreaterThan(0)
    for (const error of failures) expect(error).toBeInstanceOf(ProviderError)
    expect(engine.scheduler.active).toBe(0)
    expect(samplers.live()).toBe(0)
    // Every slot serves again, with what the failed batch left in the cache forgotten.
    const again = [recordingSink(), recordingSink()]
    await Promise.all(again.map((out) => engine.generate(greedyArgs({ prompt: 'after a failure', maxTokens: 12 }), out)))
    for (const out of again) expect(out.text()).toBe(alone.text())
    expect(samplers.live()).toBe(0)
  })

  test('a queued request holds no sampler: samplers are made when a sequence gets a slot', async () => {
    const samplers = samplerCount(engine.native)
    let most = 0
    const outs = Array.from({ length: 6 }, () => recordingSink(Infinity, 'text-delta', () => (most = Math.max(most, samplers.live()))))
    await Promise.all(outs.map((out, i) => engine.generate(greedyArgs({ prompt: `queued ${i}`, maxTokens: 6 }), out)))
    expect(samplers.made()).toBe(6)
    // Two slots: never more than two samplers alive, though six requests were waiting at once.
    expect(most).toBeLessThanOrEqual(2)
    expect(samplers.live()).toBe(0)
  })
})

describe('embeddings', () => {
  test('embeddings do not stall a chat stream: its tokens keep arriving between embedding inputs', async () => {
    const stream = recordingSink()
    const running = engine.generate(greedyArgs({ prompt: 'keep talking', maxTokens: 600 }), stream)
    await chunksArrived(stream, 2)
    const seen: number[] = []
    const vectors = recordingSink(Infinity, 'embedding', (chunk) => chunk.type === 'embedding' && seen.push(stream.chunks.length))
    const inputs = Array.from({ length: 12 }, (_, i) => `input number ${i} `.repeat(20))
    const { tokens } = await engine.embed(inputs, vectors)
    expect(tokens).toBeGreaterThan(12 * 200)
    expect(seen.length).toBe(12)
    expect(seen.at(-1)!).toBeGreaterThan(seen[0]!)
    await running
  })

  test('an embeddings request whose client left stops between inputs', async () => {
    const vectors = recordingSink(2, 'embedding')
    const error = await rejection(engine.embed(Array.from({ length: 30 }, (_, i) => `input ${i} `.repeat(30)), vectors))
    expect(error).toBeInstanceOf(CancelledError)
    expect(vectors.chunks.filter((c) => c.type === 'embedding').length).toBe(2)
  })

  test('ids outside the vocabulary and inputs longer than one batch are 400s naming input', async () => {
    for (const bad of [[999999], [-5], [2147483648]]) {
      const error = await rejection(engine.embed([bad], recordingSink()))
      expect(error).toBeInstanceOf(BadRequestError)
      expect((error as BadRequestError).param).toBe('input')
    }
    for (const long of ['word '.repeat(3000), Array.from({ length: 100_000 }, () => 7)]) {
      const error = await rejection(engine.embed([long], recordingSink()))
      expect(error).toBeInstanceOf(BadRequestError)
      expect((error as BadRequestError).code).toBe('context_length_exceeded')
      expect((error as BadRequestError).param).toBe('input')
    }
  })
})
