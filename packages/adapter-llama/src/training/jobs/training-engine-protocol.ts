import type { TrainingDatasetInput, TrainingProgress, TrainingResult } from './training-job.ts'

/** What the manager sends the engine process once: a validated job, every default filled in. */
export interface TrainingEngineSpec {
  libDir: string
  modelPath: string
  outputDir: string
  threads: number
  contextSize: number
  /** Tensor-name parts to train; empty: every tensor llama.cpp trains. */
  targets: string[]
  dataset: TrainingDatasetInput
  epochs: number
  learningRate: number
  evalSplit: number
  saveSteps: number
  /** Extract `outputDir/adapter.gguf` at this rank and alpha. */
  lora?: { rank: number; alpha: number }
  /** The engine's loop is synchronous (no IPC read during an epoch): the manager creates this file to cancel. */
  cancelPath: string
  /** The least time between two progress messages (the last step of each epoch always posts). */
  progressIntervalMs: number
}

export type TrainingEngineMessage =
  /** The engine listens: the manager sends the spec only then (IPC drops what arrives before a listener). */
  | { kind: 'ready' }
  | { kind: 'progress'; progress: TrainingProgress }
  | { kind: 'completed'; progress: TrainingProgress; result: TrainingResult }
  | { kind: 'cancelled'; progress: TrainingProgress | null }
  | { kind: 'failed'; message: string }
