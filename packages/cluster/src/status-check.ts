import { BadRequestError, MODEL_STATES, type ModelStatus } from '@cy/core'

/** A model state as a worker sent it, checked: only the known states and fields pass. */
export function checkStatus(value: unknown): ModelStatus {
  const status = value as Partial<ModelStatus> | null
  if (!status || typeof status !== 'object' || !MODEL_STATES.includes(status.state as ModelStatus['state'])) {
    throw new BadRequestError(`'status.state' must be one of ${MODEL_STATES.join(', ')}`, { param: 'status', code: 'invalid_status' })
  }
  const { state, reason, progress, loadedAt } = status
  return {
    state: state!,
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(progress && typeof progress.stage === 'string' ? { progress: { stage: progress.stage, ...(typeof progress.percent === 'number' ? { percent: progress.percent } : {}) } } : {}),
    ...(typeof loadedAt === 'number' ? { loadedAt } : {}),
  }
}
