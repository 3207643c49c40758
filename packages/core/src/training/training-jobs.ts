import type { TrainingJob, TrainingJobStatus, TrainingRequest } from './training-job.ts'

export interface TrainingListOptions {
  status?: TrainingJobStatus
  /** Default 100; -1: all. */
  limit?: number
  offset?: number
}

export type TrainingEvent = { kind: 'progress' | 'status'; job: TrainingJob }
export type TrainingListener = (event: TrainingEvent) => void

/**
 * The training jobs of a server (an adapter's trainer): what the REST routes and gRPC's TrainingService
 * call. Errors are the one error model's: 400 naming the field, 404 `training_job_not_found`, 400
 * `training_job_running`.
 */
export interface TrainingJobs {
  /** Validates the request, stores the job `queued` and starts it when a slot is free. */
  start(request: TrainingRequest): Promise<TrainingJob>
  status(id: string): TrainingJob
  list(options?: TrainingListOptions): { jobs: TrainingJob[]; total: number }
  /** A queued job is cancelled at once; a running one stops after its current step. */
  cancel(id: string): TrainingJob
  /** A running job waits after its current step (then `paused`), its state kept; 409 when it is not running. */
  pause(id: string): TrainingJob
  /** A paused job goes on; 409 when it is not paused. */
  resume(id: string): TrainingJob
  /** Every status change and progress message of one job (or of all); returns the unsubscribe. */
  subscribe(listener: TrainingListener, id?: string): () => void
  /** Stops running jobs (they fail: the server stopped while they ran) and closes the store. */
  close(): Promise<void>
}
