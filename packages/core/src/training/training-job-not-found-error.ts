import { NotFoundError } from '../errors/not-found-error.ts'

/** 404 `training_job_not_found` (the seed's TRAINING_JOB_NOT_FOUND): no job has this id. */
export class TrainingJobNotFoundError extends NotFoundError {
  constructor(id: string) {
    super(`no training job has the id '${id}'`, {
      param: 'jobId',
      code: 'training_job_not_found',
    })
  }
}
