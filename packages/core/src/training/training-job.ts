/** The seed's job statuses. `paused`: waiting between two steps, its engine process and state kept (pause and resume). */
export type TrainingJobStatus = 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled'

export const TRAINING_JOB_STATUSES: readonly TrainingJobStatus[] = ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled']

/** A status a job never leaves. */
export const isFinished = (status: TrainingJobStatus): boolean => status === 'completed' || status === 'failed' || status === 'cancelled'

/** The seed's `hyperParams` (all optional; defaults in training-request.ts), plus `evalSplit`, ours. */
export interface TrainingHyperParams {
  batchSize?: number
  learningRate?: number
  epochs?: number
  maxSeqLength?: number
  loraRank?: number
  loraAlpha?: number
  loraDropout?: number
  saveSteps?: number
  evalSteps?: number
  /** The fraction of windows (the last ones) evaluated each epoch instead of trained on, [0, 1); default 0. */
  evalSplit?: number
}

/** The seed's `loraConfig`. */
export interface TrainingLoraConfig {
  r?: number
  loraAlpha?: number
  loraDropout?: number
  targetModules?: string[]
  bias?: 'none' | 'all' | 'lora_only'
}

/** Inline data instead of a `datasetPath` (ours): a plain text (tokenized into windows) or windows already tokenized. */
export type TrainingDatasetInput = { text: string } | { windows: number[][] }

export interface TrainingRequest {
  /** A served model's id, or the path of an F32 GGUF model inside an allowed data folder. */
  baseModel: string
  /** Inside one of the allowed output folders: model.gguf, adapter.gguf and checkpoint.gguf go here. */
  outputDir: string
  /** A JSONL, JSON or text file inside an allowed data folder (the seed's field); or `dataset`, not both. */
  datasetPath?: string
  dataset?: TrainingDatasetInput
  hyperParams?: TrainingHyperParams
  loraConfig?: TrainingLoraConfig
  /** CPU threads of the engine process (default: the manager's). */
  threads?: number
}

/** The seed's progress fields, plus the last eval loss and checkpoint. */
export interface TrainingProgress {
  currentEpoch: number
  currentStep: number
  totalSteps: number
  loss: number
  learningRate: number
  elapsedTimeSeconds: number
  estimatedTimeRemainingSeconds: number
  evalLoss?: number
  checkpointStep?: number
}

export interface TrainingResult {
  modelPath: string
  /** Mean training loss of each epoch. */
  epochLosses: number[]
  /** The loss of the first training window, and of the last. */
  firstLoss: number
  finalLoss: number
  tokensPerSecond: number
  checkpointPath?: string
  adapter?: {
    path: string
    /** The name `adapter` takes at inference, when the base model is served (the outputDir's last part). */
    name?: string
    /** The served model it is listed under (its `loraAdapters`). */
    model?: string
    rank: number
    alpha: number
    tensors: Array<{ name: string; rank: number; relativeError: number }>
    /** ‖ΔW − B·A‖_F / ‖ΔW‖_F, worst over the tensors. */
    maxRelativeError: number
    skipped: Array<{ name: string; reason: string }>
  }
}

export interface TrainingJob {
  id: string
  status: TrainingJobStatus
  request: TrainingRequest
  progress: TrainingProgress | null
  result: TrainingResult | null
  error: string | null
  warnings: string[]
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

/**
 * A job's times as both APIs answer them: elapsed from its start to its end (or now), and the estimate of
 * what remains while it runs (0 once completed). Absent where they do not apply yet.
 */
export function trainingJobTimes(job: TrainingJob): { elapsedTimeSeconds?: number; estimatedTimeRemainingSeconds?: number } {
  const times: { elapsedTimeSeconds?: number; estimatedTimeRemainingSeconds?: number } = {}
  if (job.startedAt) times.elapsedTimeSeconds = Math.max(0, ((job.finishedAt ? Date.parse(job.finishedAt) : Date.now()) - Date.parse(job.startedAt)) / 1000)
  if (job.status === 'completed') times.estimatedTimeRemainingSeconds = 0
  else if (job.progress && (job.status === 'running' || job.status === 'paused')) times.estimatedTimeRemainingSeconds = job.progress.estimatedTimeRemainingSeconds
  return times
}
