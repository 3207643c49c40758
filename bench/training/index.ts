/**
 * bench/training: tokens/s of fine-tuning through our TrainingRun (what a training job's engine process
 * runs) against llama.cpp's own `llama-finetune` (built from the same sources as llama-server), on the
 * tiny test fixture and a ~100 M-parameter random llama, both F32.
 *
 * Fair by construction: the same model file, the same text (llama-finetune's own windows: `context + 1`
 * tokens every context/2, which our side cuts the same way from the same tokens), one AdamW step per
 * window (context = batch = ubatch) at the same constant learning rate, every tensor llama.cpp lets train
 * on both sides (no targets against its llama_opt_param_filter_all), no eval split, the same threads,
 * flash attention off (llama.cpp turns it off for training anyway). Each epoch's mean loss is printed for
 * both sides: equal, they trained the same thing.
 *
 * Time: each side's window ends are stamped where llama_opt_epoch calls its callback (ours: our onBatch;
 * theirs: its progress line arriving on the pipe); an epoch's time runs from the previous epoch's last
 * window to its own, so loading, warm-up, the first epoch and saving are left out on both sides. tokens/s
 * = windows x context / epoch time, over wall time, over the wall time of the epochs that had their cores
 * to themselves, and over the process's CPU time (user + system, from /proc) per thread; medians over
 * every measured epoch of every run, runs alternating which side goes first.
 *
 * Usage: bun bench/training/index.ts [--model tiny|medium|both] [--windows N] [--threads N] [--runs N] [--epochs N]
 *   [--context N] [--lib DIR] (our side on another libllama folder, e.g. llama-finetune's own build/bin; default: the one
 *   training jobs load: CY_LLAMA_TRAINING_LIB_DIR, else `engines:build llama-training`'s when built, else the prebuilt)
 */
import { readGguf, withFile } from '../../packages/native/src/index.ts'
import { resolveLlamaLibrary } from '@cy/adapter-llama'
import { trainingLibraryChoice } from '../../packages/adapter-llama/src/library/training-library.ts'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { graphPadding } from '../../packages/adapter-llama/src/training/graph-padding.ts'
import { llamaFinetune } from '../../test/fixtures/llama/build-llama-finetune.ts'
import { tinyLlamaShape, writeTinyLlama, type TinyLlamaOptions } from '../../test/fixtures/llama/tiny-llama.ts'
import { median } from '../http/stats.ts'
import { benchText } from './bench-text.ts'
import { epochTimes, type EpochStamps, type Stamp } from './epoch-times.ts'
import { oursStamps } from './ours.ts'
import { theirsStamps } from './theirs.ts'

// Windows per epoch: the tiny model takes milliseconds a window, the medium one seconds.
const MODELS: Record<string, { options: TinyLlamaOptions; windows: number }> = {
  tiny: { options: {}, windows: 64 },
  // 6 layers of 1024 (16 heads) with a 4096 FFN: 101 M parameters. Not 12 layers of 768: llama.cpp sizes its
  // graphs for inference (8 nodes a tensor, at least 1024), and from 8 layers of this shape on the training
  // graph overflows that (GGML_ASSERT(cgraph->n_nodes < cgraph->size) in ggml_build_backward_expand) and
  // llama-finetune aborts (llama.cpp issues #15090, #18805); our jobs pad the graph (graph-padding.ts).
  medium: { options: { embedding: 1024, layers: 6, heads: 16, feedForward: 4096, seed: 11 }, windows: 1 },
}

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { model: { type: 'string' }, windows: { type: 'string' }, threads: { type: 'string' }, runs: { type: 'string' }, epochs: { type: 'string' }, context: { type: 'string' }, lib: { type: 'string' } },
})
const models = values.model === undefined || values.model === 'both' ? Object.keys(MODELS) : [values.model]
const unknown = models.find((name) => !MODELS[name])
if (unknown) throw new Error(`--model must be tiny, medium or both, not ${unknown}`)
const threads = Number(values.threads ?? 2)
const runs = Number(values.runs ?? 3)
const epochs = Number(values.epochs ?? 3)
const context = Number(values.context ?? 256)
if (epochs < 2) throw new Error('--epochs must be at least 2: the first epoch is the warm-up')

// The fixtures' vocabulary: 5 special tokens and 256 bytes.
const VOCAB = 261
const parameters = (options: TinyLlamaOptions) => {
  const { embd, layers, ff, kvDim } = tinyLlamaShape(options)
  return 2 * VOCAB * embd + layers * (2 * embd * embd + 2 * embd * kvDim + 3 * embd * ff)
}

// The library a training job would load (the native build or CY_LLAMA_TRAINING_LIB_DIR when there is one), or --lib.
const libDir = (await resolveLlamaLibrary(values.lib ?? trainingLibraryChoice(undefined))).dir
const finetune = await llamaFinetune()
const dir = join(tmpdir(), 'cy-bench-training')
mkdirSync(dir, { recursive: true })
const started = performance.now()
const lines: string[] = []

for (const name of models) {
  const options = MODELS[name]!.options
  const windows = Number(values.windows ?? MODELS[name]!.windows)
  const modelPath = join(dir, `${name}.gguf`)
  if (!existsSync(modelPath)) await writeTinyLlama(modelPath, options)
  // Exactly `windows` windows: context + 1 + windows x stride tokens.
  const text = benchText(context + 1 + windows * (context / 2))
  const textPath = join(dir, `${name}.txt`)
  writeFileSync(textPath, text)
  const training = { modelPath, text, context, threads, epochs }
  const padding = await graphPadding(await withFile(modelPath, readGguf), dir)
  const epochsOf = { ours: [] as Stamp[], theirs: [] as Stamp[] }
  // Each epoch's mean loss (the last run's): equal on both sides when both train the same tensors the same way.
  const lossesOf = { ours: [] as number[], theirs: [] as number[] }
  let tensors = 0
  const measure = async (side: 'ours' | 'theirs') => {
    const result: { stamps: EpochStamps; losses: number[]; windows: number; tensors?: number } = side === 'ours' ? oursStamps(libDir, padding, training) : await theirsStamps(finetune, textPath, join(dir, `${name}-out.gguf`), training)
    if (result.windows !== windows) throw new Error(`${side} trained ${result.windows} windows an epoch, not ${windows}`)
    tensors = result.tensors ?? tensors
    const times = epochTimes(result.stamps)
    epochsOf[side].push(...times)
    lossesOf[side] = result.losses
    console.error(`${name} ${side}: ${times.map(({ wall, cpu }) => `${((windows * context) / wall).toFixed(0)} tok/s (${(cpu / wall).toFixed(2)} cores busy)`).join(', ')}`)
  }
  for (let run = 0; run < runs; run++) {
    for (const side of run % 2 ? (['theirs', 'ours'] as const) : (['ours', 'theirs'] as const)) await measure(side)
  }
  const tokens = windows * context
  // Three views of the same epochs: wall time; wall time of the epochs that had their cores to themselves
  // (CPU time at least 90% of threads x wall: the cores are shared, and a descheduled thread stalls the
  // other at ggml's barriers); CPU time per thread, which such sharing disturbs less.
  const full = (epoch: Stamp) => epoch.cpu >= 0.9 * threads * epoch.wall
  const views: Array<[string, (side: 'ours' | 'theirs') => number[]]> = [
    ['tokens/s, wall', (side) => epochsOf[side].map(({ wall }) => tokens / wall)],
    ['tokens/s, wall, cores free', (side) => epochsOf[side].filter(full).map(({ wall }) => tokens / wall)],
    [`tokens/s, CPU / ${threads}`, (side) => epochsOf[side].map(({ cpu }) => (tokens * threads) / cpu)],
  ]
  lines.push(`${name}: ${(parameters(options) / 1e6).toFixed(1)} M parameters (F32), ${tensors} tensors trained, ${windows} window(s) of ${context} an epoch`)
  lines.push(`  ${''.padEnd(28)}${'ours'.padStart(14)}${'llama-finetune'.padStart(18)}${'ours/theirs'.padStart(13)}`)
  for (const [label, rates] of views) {
    const [ours, theirs] = [rates('ours'), rates('theirs')]
    const cell = (xs: number[]) => (xs.length ? `${median(xs).toFixed(1)} (${xs.length})` : '-')
    const ratio = ours.length && theirs.length ? (median(ours) / median(theirs)).toFixed(3) : '-'
    lines.push(`  ${label.padEnd(28)}${cell(ours).padStart(14)}${cell(theirs).padStart(18)}${ratio.padStart(13)}`)
  }
  lines.push(`  epoch losses: ours ${lossesOf.ours.map((loss) => loss.toFixed(5)).join(' ')}; llama-finetune ${lossesOf.theirs.map((loss) => loss.toFixed(5)).join(' ')}`)
}

console.log(`bench/training: ${threads} threads, ${runs} runs x ${epochs - 1} measured epochs a side; medians (epochs counted); ours on ${libDir}`)
for (const line of lines) console.log(line)
console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`)
process.exit(0)
