import { TRAINING_JOB_STATUSES, trainingJobTimes, type TrainingJob } from '@cy/core'
import { t } from 'elysia'

const TrainingStatus = t.Union(TRAINING_JOB_STATUSES.map((status) => t.Literal(status)))

const TrainingProgressSchema = t.Object(
  {
    currentEpoch: t.Integer(),
    currentStep: t.Integer(),
    totalSteps: t.Integer(),
    loss: t.Number({ description: "The last training window's loss (mean cross-entropy per token)." }),
    learningRate: t.Number({ description: 'The learning rate of that step.' }),
    evalLoss: t.Optional(t.Number({ description: 'The last epoch end’s eval loss (with evalSplit).' })),
    checkpointStep: t.Optional(t.Integer({ description: 'The step outputDir/checkpoint.gguf was saved at.' })),
  },
  { additionalProperties: false },
)

const AdapterResult = t.Object({
  path: t.String(),
  name: t.Optional(t.String({ description: 'Its name for `adapter` at inference, when the base model is served.' })),
  model: t.Optional(t.String({ description: 'The served model whose loraAdapters list it.' })),
  rank: t.Integer(),
  alpha: t.Number(),
  tensors: t.Array(t.Object({ name: t.String(), rank: t.Integer(), relativeError: t.Number() })),
  maxRelativeError: t.Number({ description: "‖ΔW − B·A‖ / ‖ΔW‖ (Frobenius), the rank-r compression's worst tensor." }),
  skipped: t.Array(t.Object({ name: t.String(), reason: t.String() })),
})

const TrainingResultSchema = t.Object({
  modelPath: t.String({ description: 'The whole fine-tuned model (F32 GGUF).' }),
  epochLosses: t.Array(t.Number()),
  firstLoss: t.Number(),
  finalLoss: t.Number(),
  tokensPerSecond: t.Number(),
  checkpointPath: t.Optional(t.String()),
  adapter: t.Optional(AdapterResult),
})

export const TrainingJobStatusSchema = t.Object(
  {
    jobId: t.String(),
    status: TrainingStatus,
    baseModel: t.String(),
    outputDir: t.String(),
    datasetPath: t.Optional(t.String()),
    progress: t.Optional(TrainingProgressSchema),
    elapsedTimeSeconds: t.Optional(t.Number({ description: 'Since it started (to its end once finished).' })),
    estimatedTimeRemainingSeconds: t.Optional(t.Number()),
    createdAt: t.String(),
    startedAt: t.Optional(t.String()),
    completedAt: t.Optional(t.String({ description: 'When it finished: completed, failed or cancelled.' })),
    error: t.Optional(t.String({ description: 'Why it failed.' })),
    warnings: t.Array(t.String(), { description: 'Requested settings llama.cpp cannot honour, and facts about the data (the loss covers every token).' }),
    result: t.Optional(TrainingResultSchema),
  },
  { description: 'A training job, as GET /api/v1/training/status/{jobId} answers.' },
)

export const TrainingStartResponseSchema = t.Object({
  jobId: t.String(),
  status: TrainingStatus,
  message: t.String(),
  createdAt: t.String(),
  warnings: t.Array(t.String()),
})

export const TrainingJobActionSchema = t.Object({ jobId: t.String(), status: TrainingStatus, message: t.String() })

export const TrainingListResponseSchema = t.Object({
  jobs: t.Array(TrainingJobStatusSchema),
  total: t.Integer({ description: 'Jobs matching the filter, before limit and offset.' }),
  limit: t.Integer(),
  offset: t.Integer(),
})

/** A job in the seed's status shape (camelCase; absent fields left out rather than null). */
export function trainingJobStatus(job: TrainingJob): Record<string, unknown> {
  const { progress } = job
  return {
    jobId: job.id,
    status: job.status,
    baseModel: job.request.baseModel,
    outputDir: job.request.outputDir,
    ...(job.request.datasetPath !== undefined ? { datasetPath: job.request.datasetPath } : {}),
    ...(progress
      ? {
          progress: {
            currentEpoch: progress.currentEpoch,
            currentStep: progress.currentStep,
            totalSteps: progress.totalSteps,
            loss: progress.loss,
            learningRate: progress.learningRate,
            ...(progress.evalLoss !== undefined ? { evalLoss: progress.evalLoss } : {}),
            ...(progress.checkpointStep !== undefined ? { checkpointStep: progress.checkpointStep } : {}),
          },
        }
      : {}),
    ...trainingJobTimes(job),
    createdAt: job.createdAt,
    ...(job.startedAt ? { startedAt: job.startedAt } : {}),
    ...(job.finishedAt ? { completedAt: job.finishedAt } : {}),
    ...(job.error ? { error: job.error } : {}),
    warnings: job.warnings,
    ...(job.result ? { result: job.result } : {}),
  }
}
