// The training engine process: `bun training-engine.ts`, spawned by TrainingManager with an IPC channel. It
// gets one TrainingEngineSpec, trains, posts TrainingEngineMessages and exits. TrainingRun blocks this process's
// event loop for a whole epoch, which is why it never runs in the serving process.
import { readGguf, withFile, type TensorIndex } from '@cy/native'
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { extractLora } from '../extract-lora.ts'
import { nonF32Type, writeF32Model } from '../f32-model.ts'
import { graphPadding } from '../graph-padding.ts'
import { trainingChatRenderer } from '../training-chat.ts'
import { loadTrainingDataset } from '../training-dataset.ts'
import { TrainingInputError } from '../training-input-error.ts'
import { TrainingRun } from '../training-run.ts'
import { packWindows } from '../training-windows.ts'
import type { TrainingEngineMessage, TrainingEngineSpec } from './training-engine-protocol.ts'
import type { TrainingProgress, TrainingResult } from '@cy/core'

const post = (message: TrainingEngineMessage) => process.send!(message)

async function train(spec: TrainingEngineSpec): Promise<TrainingEngineMessage> {
  // Read once: an F32 copy has the same tensors, architecture and chat template.
  const index = await withFile(spec.modelPath, readGguf)
  // llama.cpp trains F32 weights: another model is dequantized first, beside the job's outputs (it is as large
  // as an F32 model), and is the base the adapter is extracted against.
  const base = nonF32Type(index) === undefined ? spec.modelPath : join(spec.outputDir, '.base-f32.gguf')
  try {
    if (base !== spec.modelPath) writeF32Model({ libDir: spec.libDir, input: spec.modelPath, output: base, threads: spec.threads })
    return await trainF32(spec, base, index)
  } finally {
    if (base !== spec.modelPath) rmSync(base, { force: true })
  }
}

async function trainF32(spec: TrainingEngineSpec, base: string, index: TensorIndex): Promise<TrainingEngineMessage> {
  const scratch = mkdtempSync(join(tmpdir(), 'cy-training-engine-'))
  let run: TrainingRun
  try {
    run = new TrainingRun({
      libDir: spec.libDir,
      modelPath: base,
      threads: spec.threads,
      contextSize: spec.contextSize,
      targets: spec.targets,
      padding: await graphPadding(index, scratch),
    })
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  try {
    const { train, eval: held, warnings } = await trainingWindows(run, spec, index.metadata['tokenizer.chat_template'])
    if (warnings.length) post({ kind: 'warnings', warnings })
    const stepsPerEpoch = train.length
    const totalSteps = stepsPerEpoch * spec.epochs
    // Linear decay from learningRate towards 0 over every step of every epoch (the last step's rate stays positive).
    const rateAt = (step: number) => spec.learningRate * (1 - (step - 1) / totalSteps)
    // Each llama_opt_epoch call trains a chunk of windows, then evaluates the held-out ones: with an eval split,
    // a chunk is evalSteps windows, so the eval loss comes every evalSteps steps. AdamW's state lives in the
    // context, so chunks train exactly as one epoch would (the same weights, byte for byte).
    const chunk = held.length ? Math.min(spec.evalSteps, stepsPerEpoch) : stepsPerEpoch
    // Half a window under the share: TrainingRun floors windows × (1 − evalSplit) to find the split.
    const evalSplitOf = (trained: number) => (held.length ? (held.length - 0.5) / (trained + held.length) : 0)
    const started = performance.now()
    // In an object: TypeScript cannot follow assignments made inside onBatch.
    const last: { progress?: TrainingProgress } = {}
    let lastPost = -Infinity
    let lastCheckpoint = 0
    const epochLosses: number[] = []
    let firstLoss = NaN
    let trainedWindows = 0
    let trainingSeconds = 0
    // Time spent paused: not training time, in elapsed or the estimate.
    let pausedMs = 0
    const checkpointPath = join(spec.outputDir, 'checkpoint.gguf')

    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      let epochLoss = 0
      for (let offset = 0; offset < stepsPerEpoch; offset += chunk) {
        const windows = train.slice(offset, offset + chunk)
        const done = epoch * stepsPerEpoch + offset
        run.dataset([...windows, ...held])
        const result = run.epoch({
          learningRate: (step) => rateAt(done + step),
          evalSplit: evalSplitOf(windows.length),
          onBatch: ({ step, loss, train: training }) => {
            if (!training) return !existsSync(spec.cancelPath)
            if (Number.isNaN(firstLoss)) firstLoss = loss
            const currentStep = done + step
            const elapsed = (performance.now() - started - pausedMs) / 1000
            const progress: TrainingProgress = {
              ...last.progress,
              currentEpoch: epoch + 1,
              currentStep,
              totalSteps,
              loss,
              learningRate: rateAt(currentStep),
              elapsedTimeSeconds: elapsed,
              estimatedTimeRemainingSeconds: (elapsed / currentStep) * (totalSteps - currentStep),
            }
            // A checkpoint every saveSteps steps, inside the epoch: the weights are whole between two steps (the
            // file equals one saved after an epoch of the same windows). The last step's model is model.gguf.
            const checkpoint = currentStep % spec.saveSteps === 0 && currentStep < totalSteps
            if (checkpoint) {
              run.save(`${checkpointPath}.partial`)
              renameSync(`${checkpointPath}.partial`, checkpointPath)
              lastCheckpoint = currentStep
              progress.checkpointStep = currentStep
            }
            const now = performance.now()
            // The last step of a chunk posts after its eval (below), the epoch's last always.
            if (checkpoint || (!held.length && offset + step === stepsPerEpoch) || now - lastPost >= spec.progressIntervalMs) {
              lastPost = now
              post({ kind: 'progress', progress })
            }
            last.progress = progress
            pausedMs += pauseHere(spec, progress)
            return !existsSync(spec.cancelPath)
          },
        })
        const { progress } = last
        if (result.cancelled || !progress) return { kind: 'cancelled', progress: progress ?? null }
        epochLoss += result.trainLoss * result.trainSteps
        trainedWindows += result.trainSteps
        if (result.tokensPerSecond > 0) trainingSeconds += (result.trainSteps * spec.contextSize) / result.tokensPerSecond
        if (result.evalLoss !== undefined) {
          progress.evalLoss = result.evalLoss
          lastPost = performance.now()
          post({ kind: 'progress', progress })
        }
        if (existsSync(spec.cancelPath)) return { kind: 'cancelled', progress }
      }
      epochLosses.push(epochLoss / stepsPerEpoch)
    }
    const tokensPerSecond = trainingSeconds > 0 ? (trainedWindows * spec.contextSize) / trainingSeconds : 0

    const modelPath = join(spec.outputDir, 'model.gguf')
    run.save(modelPath)
    const output: TrainingResult = {
      modelPath,
      epochLosses,
      firstLoss,
      finalLoss: last.progress!.loss,
      tokensPerSecond,
      ...(lastCheckpoint ? { checkpointPath } : {}),
    }
    if (spec.lora) {
      const path = join(spec.outputDir, 'adapter.gguf')
      const extracted = await extractLora({
        base,
        trained: modelPath,
        targets: spec.targets.length ? spec.targets : undefined,
        rank: spec.lora.rank,
        alpha: spec.lora.alpha,
        output: path,
      })
      output.adapter = {
        path,
        rank: spec.lora.rank,
        alpha: spec.lora.alpha,
        ...extracted,
      }
    }
    return {
      kind: 'completed',
      progress: last.progress!,
      result: output,
    }
  } finally {
    run.dispose()
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/**
 * A pause between two steps: while the manager's pause file exists (and no cancel's), this thread sleeps
 * inside llama_opt_epoch's callback, the model, optimizer state and dataset kept as they are. Returns the
 * time paused.
 */
function pauseHere(spec: TrainingEngineSpec, progress: TrainingProgress): number {
  if (!existsSync(spec.pausePath) || existsSync(spec.cancelPath)) return 0
  const paused = performance.now()
  post({ kind: 'paused', progress })
  while (existsSync(spec.pausePath) && !existsSync(spec.cancelPath)) Atomics.wait(sleeper, 0, 0, 50)
  post({ kind: 'resumed' })
  return performance.now() - paused
}

/** The job's windows, train then held out: its dataset file through the model's tokenizer and chat template, or its inline text or windows. */
async function trainingWindows(run: TrainingRun, spec: TrainingEngineSpec, template: string | undefined): Promise<{ train: Int32Array[]; eval: Int32Array[]; warnings: string[] }> {
  const { dataset } = spec
  if (!('path' in dataset)) {
    const windows = 'windows' in dataset ? dataset.windows.map((window) => Int32Array.from(window)) : packWindows(run.tokenize(dataset.text), spec.contextSize)
    const split = Math.floor(windows.length * (1 - spec.evalSplit))
    if (split < 1) throw new TrainingInputError(`evalSplit ${spec.evalSplit} leaves none of the ${windows.length} window(s) to train on`)
    return { train: windows.slice(0, split), eval: windows.slice(split), warnings: [] }
  }
  const { bos, eos, bosText, eosText } = run.specials()
  const loaded = await loadTrainingDataset({
    path: dataset.path,
    allowedDirs: dataset.allowedDirs,
    // A template that writes the BOS itself gets none added (inference reads such a prompt the same way).
    tokenize: (text, special) => run.tokenize(text, !(special && bos >= 0 && bosText !== '' && text.startsWith(bosText)), special),
    ...(template !== undefined ? { renderChat: trainingChatRenderer(template, bosText, eosText) } : {}),
    window: spec.contextSize,
    evalFraction: spec.evalSplit,
    ...(eos >= 0 ? { eos } : {}),
  })
  return { train: loaded.train, eval: loaded.eval, warnings: loaded.warnings }
}

process.once('message', (spec: TrainingEngineSpec) => {
  train(spec)
    .catch((error: unknown): TrainingEngineMessage => ({
      kind: 'failed',
      message: error instanceof Error ? error.message : String(error),
    }))
    .then((message) => {
      post(message)
      process.exit(0)
    })
})
post({ kind: 'ready' })
