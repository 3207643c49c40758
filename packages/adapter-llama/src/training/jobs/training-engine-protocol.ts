import type { TrainingDatasetInput, TrainingProgress, TrainingResult } from '@cy/core'

/** What the manager sends the engine process once: a validated job, every default filled in. */
export interface TrainingEngineSpec {
  libDir: string
  modelPath: string
  outputDir: string
  threads: number
  contextSize: number
  /** Tensor-name parts to train; empty: every tensor llama.cpp trains. */
  targets: string[]
  /** A dataset file (loaded, with the model's tokenizer and chat template, in the engine) or inline data. */
  dataset: { path: string; allowedDirs: string[] } | TrainingDatasetInput
  epochs: number
  learningRate: number
  evalSplit: number
  /** With an eval split: the held-out windows are evaluated every this many steps (and at each epoch's end). */
  evalSteps: number
  saveSteps: number
  /** Extract `outputDir/adapter.gguf` at this rank and alpha. */
  lora?: { rank: number; alpha: number }
  /** The engine's loop is synchronous (no IPC read during an epoch): the manager creates this file to cancel. */
  cancelPath: string
  /** While this file exists, the engine waits between two steps (pause and resume). */
  pausePath: string
  /** The least time between two progress messages (the last step of each epoch always posts). */
  progressIntervalMs: number
}

export type TrainingEngineMessage =
  /** The engine listens: the manager sends the spec only then (IPC drops what arrives before a listener). */
  | { kind: 'ready' }
  | { kind: 'progress'; progress: TrainingProgress }
  /** Waiting between two steps (the pause file exists), and going on again. */
  | { kind: 'paused'; progress: TrainingProgress }
  | { kind: 'resumed' }
  /** What the dataset's loading found (unmasked labels, a repeated short stream): added to the job's. */
  | { kind: 'warnings'; warnings: string[] }
  | { kind: 'completed'; progress: TrainingProgress; result: TrainingResult }
  | { kind: 'cancelled'; progress: TrainingProgress | null }
  | { kind: 'failed'; message: string }
