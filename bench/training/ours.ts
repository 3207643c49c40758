import type { GraphPadding } from '../../packages/adapter-llama/src/training/graph-padding.ts'
import { TrainingRun } from '../../packages/adapter-llama/src/training/training-run.ts'
import { stamp, type EpochStamps, type Stamp } from './epoch-times.ts'
import { finetuneWindows } from './bench-text.ts'

/** Both sides' AdamW rate (llama-finetune's -lr). */
export const LEARNING_RATE = 1e-4

export interface TrainingCase {
  modelPath: string
  text: string
  context: number
  threads: number
  epochs: number
}

/**
 * Our side: TrainingRun (what a training job's engine process runs) with every tensor llama.cpp allows
 * (no targets, as llama-finetune's llama_opt_param_filter_all), on llama-finetune's windows, its learning
 * rate (constant: -lr without -lr-min) set before each step as the jobs set theirs, and the jobs' graph
 * padding (graphPadding: zero adapters loaded for room in the backward graph). Returns each window's
 * end time, each epoch's mean loss and what was trained.
 */
export function oursStamps(libDir: string, padding: GraphPadding | undefined, { modelPath, text, context, threads, epochs }: TrainingCase): { stamps: EpochStamps; losses: number[]; windows: number; tensors: number } {
  const run = new TrainingRun({ libDir, modelPath, threads, contextSize: context, padding })
  try {
    const windows = finetuneWindows(run.tokenize(text), context, context / 2)
    run.dataset(windows)
    const stamps: EpochStamps = []
    const losses: number[] = []
    for (let epoch = 0; epoch < epochs; epoch++) {
      const ends: Stamp[] = []
      const result = run.epoch({
        learningRate: () => LEARNING_RATE,
        onBatch: ({ train }) => {
          if (train) ends.push(stamp('self'))
        },
      })
      stamps.push(ends)
      losses.push(result.trainLoss)
    }
    return { stamps, losses, windows: windows.length, tensors: run.trainedTensors().length }
  } finally {
    run.dispose()
  }
}
