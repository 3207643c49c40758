/**
 * bench/llama/isolation: what the process hop costs per token. The same model loaded twice, its engine in
 * a child process (the default) and on a Worker thread, decoding 1 stream and 8 streams; rounds alternate
 * between the two, and the medians are compared.
 * Usage: bun bench/llama/isolation.ts [--size small|medium|1b] [--tokens N] [--rounds N] [--threads N]
 */
import createLlamaAdapter from '@cy/adapter-llama'
import type { Isolation, LoadedModel } from '@cy/core'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { writeTinyLlama } from '../../test/fixtures/llama/tiny-llama.ts'
import { completionStamps } from './completion-stamps.ts'

const SIZES = {
  small: { embedding: 256, layers: 4, heads: 4, feedForward: 704, quantize: true },
  medium: { embedding: 768, layers: 12, heads: 12, feedForward: 2048, quantize: true },
} as const

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { size: { type: 'string' }, tokens: { type: 'string' }, rounds: { type: 'string' }, threads: { type: 'string' } },
})
const size = (values.size ?? 'medium') as keyof typeof SIZES
if (!SIZES[size]) throw new Error(`--size must be one of ${Object.keys(SIZES).join(', ')}`)
const tokens = Number(values.tokens ?? 128)
const rounds = Number(values.rounds ?? 5)
const threads = Number(values.threads ?? 2)

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (x: number) => x.toFixed(1)

const modelPath = join(tmpdir(), `cy-bench-llama-${size}-q8_0.gguf`)
if (!existsSync(modelPath)) await writeTinyLlama(modelPath, { ...SIZES[size], context: 4096, seed: 7 })

const adapter = await createLlamaAdapter({ quiet: true })
const load = (isolation: Isolation) =>
  adapter.load({ name: 'bench', adapter: 'llama', path: modelPath, options: { threads, parallel: 8, contextSize: 1024, isolation } })
const models: Record<Isolation, LoadedModel> = { process: await load('process'), worker: await load('worker') }

/** Decode tokens/s of one stream: from its first token to its last. */
async function oneStream(model: LoadedModel): Promise<number> {
  const stamps = await completionStamps(model, 'The quick brown fox', tokens)
  return (stamps.length - 1) / ((stamps.at(-1)! - stamps[0]!) / 1000)
}

/** Aggregate tokens/s of 8 concurrent streams. */
async function eightStreams(model: LoadedModel): Promise<number> {
  const started = performance.now()
  const all = await Promise.all(Array.from({ length: 8 }, (_, i) => completionStamps(model, `stream ${i}: hello`, tokens)))
  return all.reduce((sum, stamps) => sum + stamps.length, 0) / ((performance.now() - started) / 1000)
}

const rates: Record<Isolation, { one: number[]; eight: number[] }> = { process: { one: [], eight: [] }, worker: { one: [], eight: [] } }
for (const model of Object.values(models)) await completionStamps(model, 'warm up', 8)
for (let round = 0; round < rounds; round++) {
  // Alternate which goes first, so drift in the machine's load falls on both.
  const order: Isolation[] = round % 2 ? ['worker', 'process'] : ['process', 'worker']
  for (const isolation of order) rates[isolation].one.push(await oneStream(models[isolation]))
  for (const isolation of order) rates[isolation].eight.push(await eightStreams(models[isolation]))
}
for (const model of Object.values(models)) await model.dispose()

console.log(`bench/llama/isolation: ${size} model, ${threads} threads, ${tokens} tokens, ${rounds} rounds (medians)`)
console.log(['case'.padEnd(28), 'process'.padEnd(12), 'worker'.padEnd(12), 'process / worker'].join(''))
for (const [label, key] of [['1 stream, tokens/s', 'one'], ['8 streams, tokens/s', 'eight']] as const) {
  const p = median(rates.process[key])
  const w = median(rates.worker[key])
  console.log([label.padEnd(28), fmt(p).padEnd(12), fmt(w).padEnd(12), (p / w).toFixed(3)].join(''))
}
process.exit(0)
