import { BadRequestError, type ChatRequest, type ToolCallMode, type ToolValidationMode } from '@cy/core'
import { GenerationPipeline, type InvalidToolCallFallback } from './pipeline/generation-pipeline.ts'
import { SessionGate, type ConcurrencyPolicy, type GateTicket } from './session/session-gate.ts'
import { identifySession, type Session, type SessionTracking } from './session/session-key.ts'
import { bridgeRequest } from './tool-bridge/bridge-request.ts'
import { encodeMarker } from './session/zero-width-codec.ts'

export interface GatewayOptions {
  /** How tool calls are checked, unless the model or the request says otherwise (default `none`). */
  toolValidation?: ToolValidationMode
  /** What becomes of a tool call that fails validation (default `discard`, as in the seed). */
  invalidToolCalls?: InvalidToolCallFallback
  /** How requests are tied to a conversation (default `hash`). */
  sessionTracking?: SessionTracking
  /** One request at a time per session: `reject` a second with 409, or `cancel_previous` (default `off`). */
  sessionConcurrency?: ConcurrencyPolicy
  /** Clean control characters and markup typos from model text (default true). */
  sanitize?: boolean
}

/** What the gateway needs to know about the model. */
export interface ModelToolSettings {
  toolCalls: ToolCallMode
  toolValidation?: ToolValidationMode
}

export interface PreparedGeneration {
  /** What the handler sees: bridged, without session markers. */
  request: ChatRequest
  pipeline: GenerationPipeline
  session: Session
  /** Hold while the generation runs; release when it ends. */
  ticket: GateTicket
}

const VALIDATION_MODES: readonly ToolValidationMode[] = ['none', 'relaxed', 'strict']

/**
 * The seed's generation service, minus the HTTP: for each chat-shaped request (chat completions, or a
 * Responses request turned into one) it finds the session, passes the execution gate, bridges tools
 * for models without tool calling, and builds the pipeline that turns the handler's output into events.
 */
export class Gateway {
  readonly gate = new SessionGate()
  options: GatewayOptions

  constructor(options: GatewayOptions = {}) {
    this.options = { ...options }
  }

  set(options: GatewayOptions): this {
    Object.assign(this.options, options)
    return this
  }

  /**
   * `cancel` aborts this generation if a newer request of its session takes over (`cancel_previous`).
   * Throws 409 when the session is busy and the policy is `reject`.
   */
  prepare(chat: ChatRequest, model: ModelToolSettings, meta: { responseId: string; created: number }, cancel: (reason: Error) => void): PreparedGeneration {
    const options = this.options
    const requested = (chat as { tool_validation?: unknown }).tool_validation
    if (requested !== undefined && !VALIDATION_MODES.includes(requested as ToolValidationMode)) {
      throw new BadRequestError(`tool_validation must be one of ${VALIDATION_MODES.join(', ')}`, { param: 'tool_validation' })
    }
    const tracking = options.sessionTracking ?? 'hash'
    const policy = options.sessionConcurrency ?? 'off'
    // A hashed session id is only needed by the gate: skip the hashing when the gate is off.
    const session = tracking === 'hash' && policy === 'off' ? { id: '', fresh: false, request: chat } : identifySession(chat, tracking)
    const ticket = this.gate.acquire(session.id, policy, cancel)
    const tools = chat.tools ?? []
    const bridge = model.toolCalls === 'bridge'
    const request = bridge ? bridgeRequest(session.request) : session.request
    const pipeline = new GenerationPipeline({
      responseId: meta.responseId,
      model: chat.model,
      created: meta.created,
      bridge: bridge && tools.length > 0 && chat.tool_choice !== 'none',
      tools,
      validation: (requested as ToolValidationMode | undefined) ?? model.toolValidation ?? options.toolValidation ?? 'none',
      fallback: options.invalidToolCalls ?? 'discard',
      ...(chat.parallel_tool_calls === false ? { parallelToolCalls: false } : {}),
      ...(chat.tool_choice !== undefined ? { toolChoice: chat.tool_choice } : {}),
      sanitize: options.sanitize !== false,
      ...(options.sessionTracking === 'zero_width' ? { marker: encodeMarker(session.id) } : {}),
    })
    return { request, pipeline, session, ticket }
  }
}
