import { BadRequestError, type ChatRequest, type ToolCallMode, type ToolValidationMode } from '@cy/core'
import { ChoicesPipeline } from './pipeline/choices-pipeline.ts'
import { GenerationPipeline, type InvalidToolCallFallback, type PipelineOptions } from './pipeline/generation-pipeline.ts'
import { SessionGate, type ConcurrencyPolicy, type GateTicket } from './session/session-gate.ts'
import { identifySession, type Session, type SessionTracking } from './session/session-key.ts'
import { bridgeRequest } from './tool-bridge/bridge-request.ts'
import { checkToolRequest } from './validation/tool-request-check.ts'
import { encodeMarker } from './session/zero-width-codec.ts'

export interface GatewayOptions {
  /** How tool calls are checked, unless the model or the request says otherwise (default `relaxed`: unknown tools never reach a client). */
  toolValidation?: ToolValidationMode
  /** What becomes of a tool call that fails validation (default `discard`, as in the seed). */
  invalidToolCalls?: InvalidToolCallFallback
  /** How requests are tied to a conversation (default `hash`). */
  sessionTracking?: SessionTracking
  /** One request at a time per session: `reject` a second with 409, or `cancel_previous` (default `off`). */
  sessionConcurrency?: ConcurrencyPolicy
  /** Drop control characters and lone surrogates from model text; markup is never changed (default true). */
  sanitize?: boolean
}

/** How a model takes tools: the gateway's per-model settings (the registry knows nothing of tools). */
export interface ModelToolSettings {
  /** `bridge` for models without tool calling of their own (default `native`). */
  toolCalls?: ToolCallMode
  /** How its tool calls are checked (default: the gateway's `toolValidation`). */
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

/** `n` > 1: each choice goes through its own pipeline. */
function pipelineFor(options: PipelineOptions, choices: number): GenerationPipeline {
  return choices > 1 ? new ChoicesPipeline(options, choices) : new GenerationPipeline(options)
}

const NATIVE: ModelToolSettings = { toolCalls: 'native' }

const VALIDATION_MODES: readonly ToolValidationMode[] = ['none', 'relaxed', 'strict']

/**
 * The seed's generation service, minus the HTTP: for each chat-shaped request (chat completions, or a
 * Responses request turned into one) it finds the session, passes the execution gate, bridges tools
 * for models without tool calling, and builds the pipeline that turns the handler's output into events.
 */
export class Gateway {
  readonly gate = new SessionGate()
  options: GatewayOptions
  readonly #models = new Map<string, ModelToolSettings>()

  constructor(options: GatewayOptions = {}) {
    this.options = { ...options }
  }

  set(options: GatewayOptions): this {
    Object.assign(this.options, options)
    return this
  }

  /** Sets how a model takes tools, or forgets it (`undefined`: native tool calling, the gateway's validation). */
  setModel(name: string, settings: ModelToolSettings | undefined): this {
    if (settings && (settings.toolCalls !== undefined || settings.toolValidation !== undefined)) this.#models.set(name, { ...settings })
    else this.#models.delete(name)
    return this
  }

  /** How a model takes tools (`native` unless set). */
  model(name: string): ModelToolSettings {
    return this.#models.get(name) ?? NATIVE
  }

  /**
   * `caller` tells apart users with the same conversation (a digest of the API key; '' without keys),
   * asked only when the session is needed. The
   * ticket's signal fires if a newer request of the session takes over (`cancel_previous`).
   * Throws 409 when the session is busy and the policy is `reject`.
   */
  prepare(chat: ChatRequest, meta: { responseId: string; created: number }, caller: () => string = () => ''): PreparedGeneration {
    const options = this.options
    const model = this.model(chat.model)
    const requested = (chat as { tool_validation?: unknown }).tool_validation
    if (requested !== undefined && !VALIDATION_MODES.includes(requested as ToolValidationMode)) {
      throw new BadRequestError(`tool_validation must be one of ${VALIDATION_MODES.join(', ')}`, { param: 'tool_validation' })
    }
    if (chat.tools?.length || chat.tool_choice !== undefined) checkToolRequest(chat)
    const tracking = options.sessionTracking ?? 'hash'
    const policy = options.sessionConcurrency ?? 'off'
    // A hashed session id is only needed by the gate: skip the hashing when the gate is off.
    const session = tracking === 'hash' && policy === 'off' ? { id: '', fresh: false, request: chat } : identifySession(chat, tracking, caller())
    const ticket = this.gate.acquire(session.id, policy)
    const tools = chat.tools ?? []
    const bridge = model.toolCalls === 'bridge'
    const request = bridge ? bridgeRequest(session.request) : session.request
    const pipelineOptions: PipelineOptions = {
      responseId: meta.responseId,
      model: chat.model,
      created: meta.created,
      bridge: bridge && tools.length > 0 && chat.tool_choice !== 'none',
      tools,
      validation: (requested as ToolValidationMode | undefined) ?? model.toolValidation ?? options.toolValidation ?? 'relaxed',
      fallback: options.invalidToolCalls ?? 'discard',
      ...(chat.parallel_tool_calls === false ? { parallelToolCalls: false } : {}),
      ...(chat.tool_choice !== undefined ? { toolChoice: chat.tool_choice } : {}),
      sanitize: options.sanitize !== false,
      ...(options.sessionTracking === 'zero_width' ? { marker: encodeMarker(session.id) } : {}),
    }
    return { request, pipeline: pipelineFor(pipelineOptions, chat.n ?? 1), session, ticket }
  }

  /**
   * Legacy completions' pipeline, one per choice (`choices`: `n` × prompts): the text as the model wrote
   * it (no sanitizer, which would shift the logprobs' offsets), no tools, no session.
   */
  completionPipeline(meta: { responseId: string; model: string; created: number }, choices: number): GenerationPipeline {
    return pipelineFor({ ...meta, sanitize: false, toolChoice: 'none' }, choices)
  }
}
