/**
 * bench/llama/lora: what LoRA adapters cost under continuous batching. llama.cpp applies adapters per
 * context, so one llama_decode serves one adapter set and steps take the waiting sets in turn. 8 concurrent
 * greedy streams, aggregate tokens/s: no adapter; all 8 under one adapter; 4 + 4 under two adapters; 4 under
 * none + 4 under one. Rounds alternate; medians. Usage: bun bench/llama/lora.ts [--size small|medium] [--tokens N] [--rounds N] [--threads N]
 */
import createLlamaAdapter from '@cy/adapter-llama'
import { existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { FIRST_LORA_SEED, SECOND_LORA_SEED, writeTinyLlamaLora } from '../../test/fixtures/llama/tiny-lora.ts'
import { writeTinyLlama } from '../../test/fixtures/llama/tiny-llama.ts'
import { completionStamps } from './completion-stamps.ts'

const SIZES = {
  small: { embedding: 256, layers: 4, heads: 4, feedForward: 704 },
  medium: { embedding: 768, layers: 12, heads: 12, feedForward: 2048 },
} as const
const { values } = parseArgs({ args: Bun.argv.slice(2), options: { size: { type: 'string' }, tokens: { type: 'string' }, rounds: { type: 'string' }, threads: { type: 'string' } } })
const size = (values.size ?? 'small') as keyof typeof SIZES
const tokens = Number(values.tokens ?? 64)
const rounds = Number(values.rounds ?? 5)
const threads = Number(values.threads ?? 2)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

// f32 weights: the LoRA fixture writes f32 pairs for the base model's shapes.
const dir = join(tmpdir(), `cy-bench-lora-${size}`)
mkdirSync(join(dir, 'loras'), { recursive: true })
const modelPath = join(dir, 'model.gguf')
const base = { ...SIZES[size], context: 4096, seed: 7 }
if (!existsSync(modelPath)) await writeTinyLlama(modelPath, base)
for (const [name, seed] of [['a', FIRST_LORA_SEED], ['b', SECOND_LORA_SEED]] as const) {
  const path = join(dir, 'loras', `${name}.gguf`)
  if (!existsSync(path)) await writeTinyLlamaLora(path, { base, seed, strength: 0.1 })
}
const model = await createLlamaAdapter({ quiet: true }).load({ name: 'bench', adapter: 'llama', path: modelPath, options: { threads, parallel: 8, contextSize: 512, loraDir: join(dir, 'loras') } })

const CASES: Record<string, Array<string | undefined>> = {
  'no adapter': Array(8).fill(undefined),
  'one adapter (8)': Array(8).fill('a'),
  'two adapters (4 + 4)': [...Array(4).fill('a'), ...Array(4).fill('b')],
  'none + one (4 + 4)': [...Array(4).fill(undefined), ...Array(4).fill('a')],
}
async function eight(adapters: Array<string | undefined>): Promise<number> {
  const started = performance.now()
  const all = await Promise.all(adapters.map((adapter, i) => completionStamps(model, `stream ${i}: hello`, tokens, adapter)))
  return all.reduce((sum, stamps) => sum + stamps.length, 0) / ((performance.now() - started) / 1000)
}
const rates: Record<string, number[]> = Object.fromEntries(Object.keys(CASES).map((name) => [name, []]))
await eight(CASES['two adapters (4 + 4)']!)
for (let round = 0; round < rounds; round++) {
  const names = Object.keys(CASES)
  for (const name of round % 2 ? names.reverse() : names) rates[name]!.push(await eight(CASES[name]!))
}
await model.dispose()
const plain = median(rates['no adapter']!)
console.log(`bench/llama/lora: ${size} model (f32), ${threads} threads, 8 streams of ${tokens} tokens, ${rounds} rounds (medians)`)
for (const name of Object.keys(CASES)) console.log(`${name.padEnd(24)} ${median(rates[name]!).toFixed(1).padStart(8)} tokens/s   ${(median(rates[name]!) / plain).toFixed(2)} of no adapter`)
process.exit(0)
