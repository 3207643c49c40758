import type { Capability, ModelStatus, SupportedParameters, ToolCallMode, ToolValidationMode } from '@cy/core'

/**
 * The protocol version: `hello` answers it, every call carries it, and a peer of another version is
 * refused with a clear error. 2: calls are signed (HMAC) instead of carrying the secret. Additive since
 * (no bump): a registration's `status`, and the `status` and `load` calls.
 */
export const CLUSTER_MAGIC = 'cy-cluster/2'
/** The master's internal port is its API port plus this. */
export const INTERNAL_PORT_OFFSET = 1000
/** Every internal call: the protocol version it speaks. */
export const VERSION_HEADER = 'x-cy-cluster-version'
/** Every internal call: when it was signed (milliseconds since the epoch). */
export const TIMESTAMP_HEADER = 'x-cy-cluster-ts'
/** Every internal call: a random value, so two identical calls in one millisecond sign differently. */
export const NONCE_HEADER = 'x-cy-cluster-nonce'
/** With a secret: HMAC-SHA256 of the call (see `signRequest`), hex. */
export const SIGNATURE_HEADER = 'x-cy-cluster-sig'
/** A signed call older or newer than this is refused (clocks of the nodes may differ this much). */
export const DEFAULT_SIGNATURE_WINDOW_MS = 30_000
/** The OpenAI API's default body limit, which a worker applies to forwarded requests too. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

export const PATHS = {
  hello: '/cluster/hello',
  handshake: '/cluster/handshake',
  register: '/cluster/register',
  unregister: '/cluster/unregister',
  heartbeat: '/cluster/heartbeat',
  /** On the master: a worker's model changed state (`StatusReport`). */
  status: '/cluster/status',
  /** On the worker: start loading a model a request at the master is waiting for (`{ model }`); answers its state. */
  load: '/cluster/load',
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
  /** The optional request fields the model honours, so the master refuses the others as the worker would. */
  supports?: SupportedParameters
  /** The model's state on the worker (absent: ready, as before). */
  status?: ModelStatus
}

export interface StatusReport {
  workerId: string
  model: string
  status: ModelStatus
}

export interface RunRequest {
  capability: Capability
  request: unknown
  /** Its place in the worker's queue (higher first; absent: 0), as the client asked the master. */
  priority?: number
}
