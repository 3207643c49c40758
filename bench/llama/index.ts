/**
 * bench/llama: the adapter against llama.cpp itself on the same model and threads, in one run.
 *  1. single-stream decode tokens/s: adapter (Worker, scheduler, streaming) vs llama.cpp called directly;
 *  2. aggregate tokens/s of 8 concurrent streams vs one stream (continuous batching);
 *  3. time to first token through HTTP vs the in-process call.
 * Usage: bun bench/llama/index.ts [--size small|medium|1b] [--tokens N] [--rounds N] [--threads N]
 */
import createLlamaAdapter, { resolveLlamaLibrary } from '@cy/adapter-llama'
import type { LoadedModel } from '@cy/core'
import { Server } from '@cy/http'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { writeTinyLlama, type TinyLlamaOptions } from '../../test/fixtures/llama/tiny-llama.ts'
import { completionStamps } from './completion-stamps.ts'
import { referenceBatchedRate, referenceDecodeRate } from './reference-loop.ts'

// Matrices in q8_0, as real models are usually served (the tests' tiny model stays f32).
const SIZES: Record<string, TinyLlamaOptions> = {
  small: { embedding: 256, layers: 4, heads: 4, feedForward: 704, quantize: true },
  medium: { embedding: 768, layers: 12, heads: 12, feedForward: 2048, quantize: true },
  // About 1B parameters, as a real small model (1 GB in q8_0).
  '1b': { embedding: 2048, layers: 20, heads: 16, kvHeads: 8, feedForward: 5632, quantize: true },
}

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { size: { type: 'string' }, tokens: { type: 'string' }, rounds: { type: 'string' }, threads: { type: 'string' } },
})
const size = values.size ?? 'medium'
const tokens = Number(values.tokens ?? 128)
const rounds = Number(values.rounds ?? 3)
const threads = Number(values.threads ?? 2)
if (!SIZES[size]) throw new Error(`--size must be one of ${Object.keys(SIZES).join(', ')}`)

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (x: number, digits = 1) => x.toLocaleString('en-US', { maximumFractionDigits: digits })

const modelPath = join(tmpdir(), `cy-bench-llama-${size}-q8_0.gguf`)
if (!existsSync(modelPath)) {
  console.log(`writing a random-weight ${size} model to ${modelPath} ...`)
  await writeTinyLlama(modelPath, { ...SIZES[size], context: 4096, seed: 7 })
}
const library = await resolveLlamaLibrary(undefined)
const loaded: LoadedModel = await createLlamaAdapter({ quiet: true }).load({
  name: 'bench',
  adapter: 'llama',
  path: modelPath,
  options: { threads, parallel: 8, contextSize: 1024 },
})
console.log(`bench/llama: ${size} model (${fmt(Number(loaded.metadata?.parameters) / 1e6)} M parameters, q8_0), ${threads} threads, ${tokens} tokens, ${rounds} rounds; llama.cpp from ${library.source}`)

/** One completion in-process; returns token timestamps. */
const inProcess = (prompt: string, maxTokens: number) => completionStamps(loaded, prompt, maxTokens)

// 1. Single-stream decode rate.
const adapterRates: number[] = []
const referenceRates: number[] = []
await inProcess('warm up', 8)
for (let round = 0; round < rounds; round++) {
  const stamps = await inProcess('The quick brown fox', tokens)
  adapterRates.push((stamps.length - 1) / ((stamps.at(-1)! - stamps[0]!) / 1000))
  referenceRates.push(referenceDecodeRate(library.dir, modelPath, 'The quick brown fox', tokens, threads))
}

// 2. Eight concurrent streams against one.
const single: number[] = []
const aggregate: number[] = []
const directBatched: number[] = []
for (let round = 0; round < rounds; round++) {
  directBatched.push(referenceBatchedRate(library.dir, modelPath, 8, tokens, threads))
  let started = performance.now()
  const one = await inProcess('stream 0: hello', tokens)
  single.push(one.length / ((performance.now() - started) / 1000))
  started = performance.now()
  const all = await Promise.all(Array.from({ length: 8 }, (_, i) => inProcess(`stream ${i}: hello`, tokens)))
  aggregate.push(all.reduce((sum, stamps) => sum + stamps.length, 0) / ((performance.now() - started) / 1000))
}

// 3. Time to first token: HTTP (SSE) against the in-process call.
const server = new Server({ port: 0, hostname: '127.0.0.1' })
server.registerModel('bench', loaded.providers)
const { url } = await server.start()
const httpFirst: number[] = []
const localFirst: number[] = []
for (let round = 0; round < rounds * 3; round++) {
  let started = performance.now()
  const response = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench', prompt: 'Time to first token', temperature: 0, max_tokens: 2, stream: true }),
  })
  const reader = response.body!.getReader()
  await reader.read()
  httpFirst.push(performance.now() - started)
  while (!(await reader.read()).done) {}
  started = performance.now()
  const stamps = await inProcess('Time to first token', 2)
  localFirst.push(stamps[0]! - started)
}
await server.stop()
await loaded.dispose()

const rows = [
  ['single-stream decode tokens/s', fmt(median(adapterRates)), `llama.cpp direct ${fmt(median(referenceRates))}`, (median(adapterRates) / median(referenceRates)).toFixed(2), '>= 0.95'],
  ['8 streams, aggregate tokens/s', fmt(median(aggregate)), `1 stream ${fmt(median(single))}`, (median(aggregate) / median(single)).toFixed(2), '>= 3'],
  // The ceiling on this machine: llama.cpp itself decoding the same 8 sequences together.
  ['8 streams vs llama.cpp batched', fmt(median(aggregate)), `direct, 8 per decode ${fmt(median(directBatched))}`, (median(aggregate) / median(directBatched)).toFixed(2), ''],
  ['time to first token, ms', fmt(median(httpFirst), 2), `in-process ${fmt(median(localFirst), 2)}`, `+${fmt(median(httpFirst) - median(localFirst), 2)} ms`, ''],
]
console.log('')
console.log(['benchmark'.padEnd(32), 'adapter'.padEnd(12), 'baseline'.padEnd(36), 'ratio'.padEnd(10), 'aim'].join(''))
for (const row of rows) console.log([row[0]!.padEnd(32), row[1]!.padEnd(12), row[2]!.padEnd(36), row[3]!.padEnd(10), row[4]].join(''))
process.exit(0)
