// The training engine process: `bun training-engine.ts`, spawned by TrainingManager with an IPC channel. It
// gets one TrainingEngineSpec, trains, posts TrainingEngineMessages and exits. TrainingRun blocks this process's
// event loop for a whole epoch, which is why it never runs in the serving process.
import { existsSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { extractLora } from '../extract-lora.ts'
import { TrainingRun } from '../training-run.ts'
import { streamWindows } from './stream-windows.ts'
import type { TrainingEngineMessage, TrainingEngineSpec } from './training-engine-protocol.ts'
import type { TrainingProgress, TrainingResult } from './training-job.ts'

const post = (message: TrainingEngineMessage) => process.send!(message)

async function train(spec: TrainingEngineSpec): Promise<TrainingEngineMessage> {
  const run = new TrainingRun({
    libDir: spec.libDir,
    modelPath: spec.modelPath,
    threads: spec.threads,
    contextSize: spec.contextSize,
    targets: spec.targets,
  })
  try {
    const windows = 'text' in spec.dataset ? streamWindows(run.tokenize(spec.dataset.text), spec.contextSize) : spec.dataset.windows.map((window) => Int32Array.from(window))
    run.dataset(windows)
    const stepsPerEpoch = Math.floor(windows.length * (1 - spec.evalSplit))
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
    const checkpointPath = join(spec.outputDir, 'checkpoint.gguf')

    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const done = epoch * stepsPerEpoch
      const result = run.epoch({
        learningRate: (step) => rateAt(done + step),
        evalSplit: spec.evalSplit,
        onBatch: ({ step, steps, loss, train }) => {
          if (!train) return !existsSync(spec.cancelPath)
          if (Number.isNaN(firstLoss)) firstLoss = loss
          const currentStep = done + step
          const elapsed = (performance.now() - started) / 1000
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
