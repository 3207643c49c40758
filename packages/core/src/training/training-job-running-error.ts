import { BadRequestError } from '../errors/bad-request-error.ts'

/** 400 `training_job_running` (the seed's TRAINING_JOB_RUNNING, a 400 there): another job writes this outputDir. */
export class TrainingJobRunningError extends BadRequestError {
  constructor(outputDir: string, jobId: string) {
    super(`training job ${jobId} is already running (or queued) for the outputDir ${outputDir}`, { param: 'outputDir', code: 'training_job_running' })
  }
}
