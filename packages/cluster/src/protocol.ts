import type { Capability, ToolCallMode, ToolValidationMode } from '@cy/core'

/** Sent and expected in every handshake: a port that answers with it is one of our masters. */
export const CLUSTER_MAGIC = 'cy-cluster/1'
/** The master's internal port is its API port plus this. */
export const INTERNAL_PORT_OFFSET = 1000
/** The header that carries the cluster secret on every internal call. */
export const SECRET_HEADER = 'x-cy-cluster-secret'

export const PATHS = {
  hello: '/cluster/hello',
  handshake: '/cluster/handshake',
  register: '/cluster/register',
  unregister: '/cluster/unregister',
  heartbeat: '/cluster/heartbeat',
  /** On the worker: runs a request on one of its models and streams the chunks back as NDJSON. */
  run: '/cluster/run',
} as const

export interface Handshake {
  magic: string
  workerId: string
  /** Where the master reaches the worker's internal API ("http://10.0.0.5:41234"). */
  url: string
}

export interface Registration {
  workerId: string
  model: string
  capabilities: Capability[]
  /** `bridge`: the master's gateway supplies tool calling through text (since protocol 1; default native). */
  toolCalls?: ToolCallMode
  toolValidation?: ToolValidationMode
}

export interface RunRequest {
  capability: Capability
  request: unknown
}
