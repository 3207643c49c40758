import { BadRequestError } from '../errors/bad-request-error.ts'

/**
 * 400 `training_unavailable` on `/api/v1/training` (gRPC's TrainingService answers UNIMPLEMENTED for it): the
 * server runs no trainer.
 */
export class TrainingUnavailableError extends BadRequestError {
  constructor() {
    super(
      'Training is not available on this server. Training is off: no installed adapter trains (the llama adapter does), or it was started with --no-training',
      { code: 'training_unavailable' },
    )
  }
}
