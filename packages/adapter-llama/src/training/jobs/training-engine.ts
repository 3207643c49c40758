// The training engine process: `bun training-engine.ts`, spawned by TrainingManager with an IPC channel. It
// gets one TrainingEngineSpec, trains, posts TrainingEngineMessages and exits. TrainingRun blocks this process's
// event loop for a whole epoch, which is why it never runs in the serving process.
import { readGguf, withFile } from '@cy/native'
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { extractLora } from '../extract-lora.ts'
import { graphPadding } from '../graph-padding.ts'
import { trainingChatRenderer } from '../training-chat.ts'
import { loadTrainingDataset } from '../training-dataset.ts'
import { TrainingRun } from '../training-run.ts'
import { packWindows } from '../training-windows.ts'
import type { TrainingEngineMessage, TrainingEngineSpec } from './training-engine-protocol.ts'
import type { TrainingProgress, TrainingResult } from '@cy/core'

const post = (message: TrainingEngineMessage) => process.send!(message)

async function train(spec: TrainingEngineSpec): Promise<TrainingEngineMessage> {
  const scratch = mkdtempSync(join(tmpdir(), 'cy-training-engine-'))
  let run: TrainingRun
  try {
    run = new TrainingRun({
      libDir: spec.libDir,
      modelPath: spec.modelPath,
      threads: spec.threads,
      contextSize: spec.contextSize,
      targets: spec.targets,
      padding: await graphPadding(spec.modelPath, scratch),
    })
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  try {
    const { windows, evalSplit, warnings } = await trainingWindows(run, spec)
    if (warnings.length) post({ kind: 'warnings', warnings })
    run.dataset(windows)
    const stepsPerEpoch = Math.floor(windows.length * (1 - evalSplit))
    const totalSteps = stepsPerEpoch * spec.epochs
    // Linear decay from learningRate towards 0 over every step of every epoch (the last step's rate stays positive).
    const rateAt = (step: number) => spec.learningRate * (1 - (step - 1) / totalSteps)
    const started = performance.now()
    // In an object: TypeScript cannot follow assignments made inside onBatch.
    const last: { progress?: TrainingProgress } = {}
    let lastPost = -Infinity
    let lastCheckpoint = 0
    let tokensPerSecond = 0
    const epochLosses: number[] = []
    let firstLoss = NaN
    // Time spent paused: not training time, in elapsed or the estimate.
    let pausedMs = 0
    const checkpointPath = join(spec.outputDir, 'checkpoint.gguf')

    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const done = epoch * stepsPerEpoch
      const result = run.epoch({
        learningRate: (step) => rateAt(done + step),
        evalSplit,
        onBatch: ({ step, steps, loss, train }) => {
          if (!train) return !existsSync(spec.cancelPath)
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
          const now = performance.now()
          if (step === steps || now - lastPost >= spec.progressIntervalMs) {
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
      epochLosses.push(result.trainLoss)
      tokensPerSecond = result.tokensPerSecond
      if (result.evalLoss !== undefined) progress.evalLoss = result.evalLoss
      const step = done + stepsPerEpoch
      // save() cannot run inside llama_opt_epoch: a checkpoint waits for the first epoch end after saveSteps steps.
      if (step - lastCheckpoint >= spec.saveSteps && epoch < spec.epochs - 1) {
        run.save(`${checkpointPath}.partial`)
        renameSync(`${checkpointPath}.partial`, checkpointPath)
        lastCheckpoint = step
        progress.checkpointStep = step
        post({ kind: 'progress', progress })
      }
      if (existsSync(spec.cancelPath)) return { kind: 'cancelled', progress }
    }

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
        base: spec.modelPath,
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

/** The job's windows: its dataset file through the model's tokenizer and chat template, or its inline text or windows. */
async function trainingWindows(run: TrainingRun, spec: TrainingEngineSpec): Promise<{ windows: Int32Array[]; evalSplit: number; warnings: string[] }> {
  const { dataset } = spec
  if ('windows' in dataset) return { windows: dataset.windows.map((window) => Int32Array.from(window)), evalSplit: spec.evalSplit, warnings: [] }
  if ('text' in dataset) return { windows: packWindows(run.tokenize(dataset.text), spec.contextSize), evalSplit: spec.evalSplit, warnings: [] }
  const { bos, eos, bosText, eosText } = run.specials()
  const template = (await withFile(spec.modelPath, readGguf)).metadata['tokenizer.chat_template']
  const loaded = await loadTrainingDataset({
    path: dataset.path,
    allowedDirs: dataset.allowedDirs,
    // A template that writes the BOS itself gets none added (inference reads such a prompt the same way).
    tokenize: (text, special) => run.tokenize(text, !(special && bos >= 0 && bosText !== '' && text.startsWith(bosText)), special),
    ...(typeof template === 'string' ? { renderChat: trainingChatRenderer(template, bosText, eosText) } : {}),
    window: spec.contextSize,
    evalFraction: spec.evalSplit,
    ...(eos >= 0 ? { eos } : {}),
  })
  return { windows: [...loaded.train, ...loaded.eval], evalSplit: loaded.evalSplit, warnings: loaded.warnings }
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
