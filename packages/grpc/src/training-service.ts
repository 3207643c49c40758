import { BadRequestError, isFinished, TrainingUnavailableError, type TrainingEvent, type TrainingJob, type TrainingJobs } from '@cy/core'
import { inferenceError, type ApiContext } from '@cy/http'
import { Metadata, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js'
import { beginCallRecord, type CallRecord } from './call-record.ts'
import { grpcError } from './grpc-status.ts'
import { TRAINING_SERVICE } from './service-definitions.ts'
import { jobFields, statusMessage, statusResponse } from './training-job-message.ts'
import { listOptions, statusName, trainingRequest, type ListTrainingJobsMessage, type TrainingRequestMessage } from './training-request-message.ts'

type CheckKey = (metadata: Metadata) => void
type Reply = Record<string, unknown>

/** The trainer, read at each call: the server app sets it on the context after the gRPC server exists. */
function trainer(ctx: ApiContext): TrainingJobs {
  if (!ctx.training) throw new TrainingUnavailableError()
  return ctx.training
}

/** Opens the call's access record (its trace id, the access line and the request metrics, as StreamPredict's). */
function begin(ctx: ApiContext, method: string, call: { metadata: Metadata; getPeer(): string }): CallRecord {
  return beginCallRecord(ctx, `/${TRAINING_SERVICE}/${method}`, call.metadata, call.getPeer(), undefined)
}

/** Closes the record with the error's status, and gives the error as the call's status. */
function fail(ctx: ApiContext, record: CallRecord, thrown: unknown): ReturnType<typeof grpcError> {
  const failure = inferenceError(thrown)
  record.error ??= failure.error
  ctx.observer.answered(record, new Response(null, { status: failure.status }))
  return grpcError(thrown)
}

function jobId(request: { job_id?: string }): string {
  if (!request.job_id) throw new BadRequestError('job_id is required', { param: 'jobId', code: 'invalid_request' })
  return request.job_id
}

/** A unary RPC: the key, the trainer, then `handle`'s answer (or its error as the call's status). */
function unary<Request>(ctx: ApiContext, checkKey: CheckKey, method: string, handle: (training: TrainingJobs, request: Request) => Reply) {
  return (call: ServerUnaryCall<Request, Reply>, callback: sendUnaryData<Reply>) => {
    const record = begin(ctx, method, call)
    let reply: Reply
    try {
      checkKey(call.metadata)
      reply = handle(trainer(ctx), call.request)
    } catch (error) {
      callback(fail(ctx, record, error))
      return
    }
    ctx.observer.answered(record, new Response(null, { status: 200 }))
    callback(null, reply)
  }
}

/**
 * `StartTraining`: starts the job, then one TrainingProgress per job event until the job's last status
 * (COMPLETED, FAILED with its error, CANCELLED), then OK. A client that cancels the call stops only its
 * messages: a job may run for hours and is stored, so it runs on (CancelTraining stops it).
 */
async function startTraining(ctx: ApiContext, checkKey: CheckKey, call: ServerWritableStream<TrainingRequestMessage, Reply>): Promise<void> {
  const record = begin(ctx, 'StartTraining', call)
  let left = () => {}
  const gone = new Promise<void>((resolve) => (left = resolve))
  call.on('cancelled', left)
  let unsubscribe = () => {}
  try {
    checkKey(call.metadata)
    const training = trainer(ctx)
    const request = trainingRequest(call.request)
    // Subscribed before the start, which itself emits the job's first status events (queued, and running when a
    // slot is free). Until its id is known only status events are kept: its engine reports no progress that soon.
    let early: TrainingEvent[] | undefined = []
    let onEvent = (event: TrainingEvent) => void (event.kind === 'status' && early?.push(event))
    unsubscribe = training.subscribe((event) => onEvent(event))
    const started = await training.start(request)
    const finished = new Promise<void>((resolve) => {
      let done = false
      // Progress comes at most once per the trainer's interval: grpc-js buffers what the client has not read yet.
      const send = (job: TrainingJob) => {
        if (done || call.cancelled) return
        call.write({ trace_id: record.id, ...jobFields(job) })
        if (!isFinished(job.status)) return
        done = true
        resolve()
      }
      const mine = early!.filter((event) => event.job.id === started.id).map((event) => event.job)
      early = undefined
      onEvent = (event) => {
        if (event.job.id === started.id) send(event.job)
      }
      for (const job of mine.length > 0 ? mine : [started]) send(job)
    })
    await Promise.race([finished, gone])
    unsubscribe()
    ctx.observer.answered(record, new Response(null, { status: call.cancelled ? 499 : 200 }))
    if (!call.cancelled) call.end()
  } catch (error) {
    unsubscribe()
    const failure = fail(ctx, record, error)
    if (!call.cancelled) call.emit('error', failure)
  } finally {
    call.off('cancelled', left)
  }
}

/** TrainingService on the server's trainer (`ctx.training`, the jobs of `/api/v1/training`), behind the key; UNIMPLEMENTED without one. */
export function trainingService(ctx: ApiContext, checkKey: CheckKey): UntypedServiceImplementation {
  return {
    StartTraining: (call: ServerWritableStream<TrainingRequestMessage, Reply>) => void startTraining(ctx, checkKey, call),
    GetTrainingStatus: unary<{ job_id?: string }>(ctx, checkKey, 'GetTrainingStatus', (training, request) => statusResponse(training.status(jobId(request)))),
    CancelTraining: unary<{ job_id?: string }>(ctx, checkKey, 'CancelTraining', (training, request) => {
      const job = training.cancel(jobId(request))
      // A running job stops after its current step: the answer says so, and its status turns CANCELLED then.
      const message = job.status === 'running' ? 'Training job will be cancelled after its current step' : statusMessage(job)
      return { job_id: job.id, status: statusName(job.status), message }
    }),
    PauseTraining: unary<{ job_id?: string }>(ctx, checkKey, 'PauseTraining', (training, request) => {
      const job = training.pause(jobId(request))
      const message = job.status === 'paused' ? 'Training job is paused' : 'Training job will pause after its current step'
      return { job_id: job.id, status: statusName(job.status), message }
    }),
    ResumeTraining: unary<{ job_id?: string }>(ctx, checkKey, 'ResumeTraining', (training, request) => {
      const job = training.resume(jobId(request))
      return { job_id: job.id, status: statusName(job.status), message: 'Training job is resuming' }
    }),
    ListTrainingJobs: unary<ListTrainingJobsMessage>(ctx, checkKey, 'ListTrainingJobs', (training, request) => {
      const options = listOptions(request)
      const { jobs, total } = training.list(options)
      return { jobs: jobs.map(statusResponse), total, limit: options.limit, offset: options.offset }
    }),
  }
}
