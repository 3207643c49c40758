import { trainingJobTimes, type TrainingJob, type TrainingJobStatus, type TrainingResult } from '@cy/core'
import { statusName } from './training-request-message.ts'

/** What a job says of itself, in a status response (its `message`, as the REST API's). */
const STATUS_MESSAGES: Record<TrainingJobStatus, string> = {
  queued: 'Training job has been queued',
  running: 'Training job is running',
  paused: 'Training job is paused',
  completed: 'Training job has completed',
  failed: 'Training job has failed',
  cancelled: 'Training job has been cancelled',
}

export const statusMessage = (job: TrainingJob): string => (job.status === 'failed' && job.error ? `${STATUS_MESSAGES.failed}: ${job.error}` : STATUS_MESSAGES[job.status])

function resultMessage(result: TrainingResult): Record<string, unknown> {
  const { adapter } = result
  return {
    model_path: result.modelPath,
    epoch_losses: result.epochLosses,
    first_loss: result.firstLoss,
    final_loss: result.finalLoss,
    tokens_per_second: result.tokensPerSecond,
    checkpoint_path: result.checkpointPath ?? '',
    ...(adapter
      ? {
          adapter: {
            path: adapter.path,
            name: adapter.name ?? '',
            model: adapter.model ?? '',
            rank: adapter.rank,
            alpha: adapter.alpha,
            max_relative_error: adapter.maxRelativeError,
            tensors: adapter.tensors.map((tensor) => ({ name: tensor.name, rank: tensor.rank, relative_error: tensor.relativeError })),
            skipped: adapter.skipped,
          },
        }
      : {}),
  }
}

/** The fields TrainingProgress and TrainingStatusResponse share, from the job as the trainer stores it (what REST answers from). */
export function jobFields(job: TrainingJob): Record<string, unknown> {
  const p = job.progress
  const times = trainingJobTimes(job)
  return {
    job_id: job.id,
    status: statusName(job.status),
    ...(p
      ? {
          progress: {
            current_epoch: p.currentEpoch,
            current_step: p.currentStep,
            total_steps: p.totalSteps,
            ...(p.checkpointStep !== undefined ? { checkpoint_step: p.checkpointStep } : {}),
          },
          metrics: { loss: p.loss, learning_rate: p.learningRate, ...(p.evalLoss !== undefined ? { eval_loss: p.evalLoss } : {}) },
        }
      : {}),
    // As REST answers them (trainingJobTimes), 0 where they do not apply yet.
    elapsed_time_seconds: times.elapsedTimeSeconds ?? 0,
    estimated_time_remaining_seconds: times.estimatedTimeRemainingSeconds ?? 0,
    error: job.error ?? '',
    warnings: job.warnings,
    ...(job.result ? { result: resultMessage(job.result) } : {}),
  }
}

/** `TrainingStatusResponse`: GetTrainingStatus' answer, and each job of ListTrainingJobs. */
export function statusResponse(job: TrainingJob): Record<string, unknown> {
  return {
    ...jobFields(job),
    created_at: job.createdAt,
    started_at: job.startedAt ?? '',
    completed_at: job.finishedAt ?? '',
    message: statusMessage(job),
    base_model: job.request.baseModel,
    output_dir: job.request.outputDir,
    dataset_path: job.request.datasetPath ?? '',
  }
}
