import { isFinished, TRAINING_JOB_STATUSES, TrainingUnavailableError, type TrainingJob, type TrainingJobs, type TrainingJobStatus } from '@cy/core'
import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { jsonResponse } from '../json-response.ts'
import type { JsonRoute } from '../routes/json-route.ts'
import { EngineErrorBodySchema, engineErrorResponses } from './engine-error.ts'
import { TrainingStartBodySchema, type TrainingStartBody } from './training-body.ts'
import { TrainingJobActionSchema, TrainingJobStatusSchema, TrainingListResponseSchema, TrainingStartResponseSchema, trainingJobStatus } from './training-wire.ts'

const TAGS = ['Engine API: training']
/** How long a cancel waits for a running job to stop at its next step before it answers. */
const CANCEL_WAIT_MS = 10_000

/** The server's trainer, or the 400 saying training is off (no installed adapter trains, or --no-training). */
function trainer(ctx: ApiContext): TrainingJobs {
  if (!ctx.training) throw new TrainingUnavailableError()
  return ctx.training
}

/** The job once `reached` holds for it, or as it is after `ms`. */
function settled(jobs: TrainingJobs, job: TrainingJob, ms: number, reached: (status: TrainingJobStatus) => boolean): Promise<TrainingJob> {
  if (reached(job.status)) return Promise.resolve(job)
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop()
      resolve(jobs.status(job.id))
    }, ms)
    const stop = jobs.subscribe((event) => {
      if (!reached(event.job.status)) return
      clearTimeout(timer)
      stop()
      resolve(event.job)
    }, job.id)
  })
}

const CANCEL_MESSAGES: Partial<Record<TrainingJobStatus, string>> = {
  cancelled: 'Training job has been cancelled',
  running: 'Training job is being cancelled: it stops after its current step',
  completed: 'Training job had already completed',
  failed: 'Training job had already failed',
}

export const trainingStartRoute: JsonRoute<TrainingStartBody> = {
  path: '/api/v1/training/start',
  schema: TrainingStartBodySchema,
  response: { 200: TrainingStartResponseSchema, ...engineErrorResponses },
  detail: {
    tags: TAGS,
    summary: 'Start a training job',
    description:
      'Fine-tunes an F32 llama.cpp model in an engine process of its own (one job at a time; the rest wait `queued`), and writes outputDir/model.gguf, and outputDir/adapter.gguf with loraConfig. A served base model lists the adapter in its `loraAdapters` once the job completes.',
  },
  async serve(ctx, body) {
    const job = await trainer(ctx).start(body)
    const message = job.status === 'queued' ? 'Training job has been queued' : 'Training job has started'
    return jsonResponse({ jobId: job.id, status: job.status, message, createdAt: job.createdAt, warnings: job.warnings })
  },
}

const errors = { 400: EngineErrorBodySchema, 401: EngineErrorBodySchema, 404: EngineErrorBodySchema }
const jobParams = t.Object({ jobId: t.String({ minLength: 1, maxLength: 200 }) })

/** The training routes without a body: a job's status, its cancel, and the list. */
export const trainingRoutes = (ctx: ApiContext) =>
  new Elysia()
    .get('/api/v1/training/status/:jobId', ({ params }) => jsonResponse(trainingJobStatus(trainer(ctx).status(params.jobId))), {
      params: jobParams,
      response: { 200: TrainingJobStatusSchema, ...errors },
      detail: { tags: TAGS, summary: "A training job's status and progress" },
    })
    .post(
      '/api/v1/training/cancel/:jobId',
      async ({ params }) => {
        const jobs = trainer(ctx)
        const job = await settled(jobs, jobs.cancel(params.jobId), CANCEL_WAIT_MS, isFinished)
        return jsonResponse({ jobId: job.id, status: job.status, message: CANCEL_MESSAGES[job.status] ?? `Training job is ${job.status}` })
      },
      {
        params: jobParams,
        response: { 200: TrainingJobActionSchema, ...errors },
        detail: {
          tags: TAGS,
          summary: 'Cancel a training job',
          description: `A queued job is cancelled at once; a running one stops after its current step (its last checkpoint stays). The answer waits up to ${CANCEL_WAIT_MS / 1000} s for that.`,
        },
      },
    )
    .post(
      '/api/v1/training/pause/:jobId',
      async ({ params }) => {
        const jobs = trainer(ctx)
        const job = await settled(jobs, jobs.pause(params.jobId), CANCEL_WAIT_MS, (status) => status !== 'running')
        const message = job.status === 'paused' ? 'Training job has been paused' : `Training job is ${job.status}${job.status === 'running' ? ': it pauses after its current step' : ''}`
        return jsonResponse({ jobId: job.id, status: job.status, message })
      },
      {
        params: jobParams,
        response: { 200: TrainingJobActionSchema, ...errors, 409: EngineErrorBodySchema },
        detail: {
          tags: TAGS,
          summary: 'Pause a running training job (ours)',
          description: `It waits after its current step, its engine process, weights and optimizer state kept in memory (it keeps its slot), until resumed or cancelled. The answer waits up to ${CANCEL_WAIT_MS / 1000} s for the pause. 409 for a job that is not running.`,
        },
      },
    )
    .post(
      '/api/v1/training/resume/:jobId',
      ({ params }) => {
        const job = trainer(ctx).resume(params.jobId)
        return jsonResponse({ jobId: job.id, status: job.status, message: 'Training job is resuming' })
      },
      {
        params: jobParams,
        response: { 200: TrainingJobActionSchema, ...errors, 409: EngineErrorBodySchema },
        detail: { tags: TAGS, summary: 'Resume a paused training job (ours)', description: 'It goes on from the step it stopped after. 409 for a job that is not paused.' },
      },
    )
    .get(
      '/api/v1/training/list',
      ({ query }) => {
        const limit = query.limit ?? 100
        const offset = query.offset ?? 0
        const { jobs, total } = ctx.training?.list({ ...(query.status ? { status: query.status as TrainingJobStatus } : {}), limit, offset }) ?? { jobs: [], total: 0 }
        return jsonResponse({ jobs: jobs.map(trainingJobStatus), total, limit, offset })
      },
      {
        query: t.Object({
          status: t.Optional(t.Union(TRAINING_JOB_STATUSES.map((status) => t.Literal(status)))),
          limit: t.Optional(t.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          offset: t.Optional(t.Integer({ minimum: 0, default: 0 })),
        }),
        response: { 200: TrainingListResponseSchema, ...errors },
        detail: { tags: TAGS, summary: 'List training jobs', description: 'Oldest first; `status` filters, `limit` (default 100) and `offset` page.' },
      },
    )
