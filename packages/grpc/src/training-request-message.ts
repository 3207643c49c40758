import { BadRequestError, TRAINING_JOB_STATUSES, type TrainingHyperParams, type TrainingJobStatus, type TrainingListOptions, type TrainingLoraConfig, type TrainingRequest } from '@cy/core'

type Fields = Record<string, unknown>

/** `TrainingRequest` as proto-loader decodes it: unset fields are absent (`defaults: false`), `dataset` names the oneof's case. */
export interface TrainingRequestMessage {
  base_model?: string
  output_dir?: string
  dataset?: 'dataset_path' | 'dataset_text' | 'dataset_windows'
  dataset_path?: string
  dataset_text?: string
  dataset_windows?: { windows?: Array<{ tokens?: number[] }> }
  hyper_params?: Fields
  lora_config?: Fields
  threads?: number
}

export interface ListTrainingJobsMessage {
  status?: string
  limit?: number
  offset?: number
}

/** The REST API's default page, the same over gRPC. */
export const TRAINING_LIST_LIMIT = 100

const invalid = (param: string, message: string) => new BadRequestError(message, { param, code: 'invalid_request' })

/**
 * A message's set fields under the REST API's names (`lora_alpha` → `loraAlpha`). proto-loader adds the
 * synthetic oneofs of `optional` fields as `_name` keys, which are dropped, and an unset string is ''.
 */
function camelFields(message: Fields): Fields {
  return Object.fromEntries(
    Object.entries(message)
      .filter(([key, value]) => !key.startsWith('_') && value !== undefined && value !== '')
      .map(([key, value]) => [key.replace(/_(.)/g, (_, letter: string) => letter.toUpperCase()), value]),
  )
}

/** The call's request as the trainer takes it (the REST API's body); the trainer checks every value, as it does for REST. */
export function trainingRequest(message: TrainingRequestMessage): TrainingRequest {
  const request: TrainingRequest = { baseModel: message.base_model ?? '', outputDir: message.output_dir ?? '' }
  if (message.dataset === 'dataset_path') request.datasetPath = message.dataset_path ?? ''
  if (message.dataset === 'dataset_text') request.dataset = { text: message.dataset_text ?? '' }
  if (message.dataset === 'dataset_windows') request.dataset = { windows: (message.dataset_windows?.windows ?? []).map((window) => window.tokens ?? []) }
  // A message field that is set (even empty) is sent, as a JSON body's `{}` would be.
  if (message.hyper_params) request.hyperParams = camelFields(message.hyper_params) as TrainingHyperParams
  if (message.lora_config) request.loraConfig = camelFields(message.lora_config) as TrainingLoraConfig
  if (message.threads !== undefined) request.threads = message.threads
  return request
}

/** The proto's enum names (`COMPLETED`) and the jobs' statuses (`completed`). */
export const statusName = (status: TrainingJobStatus): string => status.toUpperCase()

/** ListTrainingJobs' filter and page, checked as the REST query is: a status of the enum, limit and offset not negative. */
export function listOptions(message: ListTrainingJobsMessage): TrainingListOptions & { limit: number; offset: number } {
  const { limit = TRAINING_LIST_LIMIT, offset = 0 } = message
  if (limit < 0) throw invalid('limit', `limit must be 0 or more, not ${limit}`)
  if (offset < 0) throw invalid('offset', `offset must be 0 or more, not ${offset}`)
  if (message.status === undefined) return { limit, offset }
  const status = TRAINING_JOB_STATUSES.find((name) => statusName(name) === message.status)
  if (!status) throw invalid('status', `status ${message.status} is not a job status (leave it unset for every job)`)
  return { status, limit, offset }
}
