import { toApiError, type FinishReason, type FunctionTool, type GenerationEvent, type GenerationUsage, type OutputChunk, type ToolChoice, type ToolValidationMode } from '@cy/core'
import { OutputSanitizer } from '../sanitizer/output-sanitizer.ts'
import { XmlToolCallParser, type BridgeOutput } from '../tool-bridge/xml-tool-call-parser.ts'
import { ToolCallValidator } from '../validation/tool-call-validator.ts'
import { resultFinishReason } from './result-finish-reason.ts'
import { SentText } from './sent-text.ts'

/** What to do with a tool call that fails validation: drop it (the seed's default), or give it to the client as text. */
export type InvalidToolCallFallback = 'discard' | 'text'

export interface PipelineOptions {
  responseId: string
  model: string
  created: number
  /** Parse `<tool_call>` markup out of the text (the model has no tool calling of its own). */
  bridge?: boolean
  tools?: FunctionTool[]
  validation?: ToolValidationMode
  fallback?: InvalidToolCallFallback
  /** `false`: only the first tool call is kept. */
  parallelToolCalls?: boolean
  /** `none` drops every call; a named function drops calls to any other (what OpenAI guarantees). */
  toolChoice?: ToolChoice
  /** Drop control characters and lone surrogates; markup is never changed (default true). */
  sanitize?: boolean
  /** Appended to the answer's text (a zero-width session marker). */
  marker?: string
}

interface PartialCall {
  id: string
  name: string
  arguments: string
}

/**
 * The gateway's core: a handler's output chunks in, the seed's generation events out. On the way text is
 * sanitized, the text bridge turns `<tool_call>` markup into tool calls, and every call, native or
 * bridged, is validated; an invalid one is dropped or becomes text.
 */
export class GenerationPipeline {
  readonly #options: PipelineOptions
  readonly #sanitizer: OutputSanitizer | undefined
  readonly #parser: XmlToolCallParser | undefined
  // Made on first use: most generations call no tool.
  #validator: ToolCallValidator | undefined
  readonly #sent = new SentText()
  #partials: Map<number, PartialCall> | undefined
  #text = ''
  #calls = 0
  #reason: FinishReason | undefined
  #usage: GenerationUsage | undefined

  constructor(options: PipelineOptions) {
    this.#options = options
    this.#sanitizer = options.sanitize === false ? undefined : new OutputSanitizer()
    this.#parser = options.bridge ? new XmlToolCallParser() : undefined
  }

  start(): GenerationEvent[] {
    return [{ type: 'started', responseId: this.#options.responseId, model: this.#options.model, created: this.#options.created }]
  }

  push(chunks: OutputChunk[]): GenerationEvent[] {
    const events: GenerationEvent[] = []
    for (const chunk of chunks) {
      switch (chunk.type) {
        case 'text-delta':
        case 'final-text': {
          const text = this.#sent.next(chunk)
          if (text) this.#emitText(this.#sanitizer ? this.#sanitizer.push(text) : text, events)
          break
        }
        case 'reasoning-delta':
          if (chunk.text) events.push({ type: 'reasoning-delta', delta: chunk.text, index: 0 })
          break
        case 'tool-call-delta': {
          this.#completeBefore(chunk.callIndex, events)
          this.#partials ??= new Map()
          const call = this.#partials.get(chunk.callIndex) ?? { id: '', name: '', arguments: '' }
          if (chunk.id) call.id = chunk.id
          if (chunk.name) call.name += chunk.name
          call.arguments += chunk.argumentsDelta
          this.#partials.set(chunk.callIndex, call)
          break
        }
        case 'tool-call':
          this.#completeBefore(chunk.callIndex, events)
          this.#partials?.delete(chunk.callIndex)
          this.#call({ name: chunk.name, arguments: chunk.arguments }, events, chunk.id)
          break
        case 'usage':
          this.#usage = { inputTokens: chunk.promptTokens, outputTokens: chunk.completionTokens, ...(chunk.cachedTokens !== undefined ? { cachedTokens: chunk.cachedTokens } : {}) }
          break
        case 'finish':
          this.#reason = chunk.reason
          break
        case 'logprobs':
          events.push({ type: 'logprobs', content: chunk.content })
          break
      }
    }
    return events
  }

  end(): GenerationEvent[] {
    const events: GenerationEvent[] = []
    if (this.#sanitizer) this.#emitText(this.#sanitizer.flush(), events)
    if (this.#parser) this.#bridged(this.#parser.flush(), events)
    this.#completeBefore(Infinity, events)
    if (this.#options.marker && this.#text) this.#delta(this.#options.marker, events)
    events.push({ type: 'output-text-done', text: this.#text, index: 0 })
    if (this.#usage) events.push({ type: 'usage', ...this.#usage })
    events.push({ type: 'completed', finishReason: resultFinishReason(this.#reason, this.#calls), ...(this.#usage ? { usage: this.#usage } : {}) })
    return events
  }

  fail(error: unknown): GenerationEvent[] {
    return [{ type: 'error', error: toApiError(error) }]
  }

  /** Calls stream one after another: once a later one starts, the earlier ones are complete. */
  #completeBefore(callIndex: number, events: GenerationEvent[]): void {
    if (!this.#partials?.size) return
    for (const [index, call] of [...this.#partials].sort(([a], [b]) => a - b)) {
      if (index >= callIndex) break
      this.#partials.delete(index)
      this.#call(call, events, call.id)
    }
  }

  #emitText(text: string, events: GenerationEvent[]): void {
    if (!text) return
    if (this.#parser) this.#bridged(this.#parser.push(text), events)
    else this.#delta(text, events)
  }

  #bridged(outputs: BridgeOutput[], events: GenerationEvent[]): void {
    for (const output of outputs) {
      if (output.type === 'text') this.#delta(output.text, events)
      else if (output.type === 'call') this.#call(output.call, events, undefined, output.raw)
      // Markup that is no call at all is the model's text: the client sees it.
      else this.#delta(output.raw, events)
    }
  }

  #delta(text: string, events: GenerationEvent[]): void {
    if (!text) return
    this.#text += text
    events.push({ type: 'output-text-delta', delta: text, index: 0 })
  }

  #call(call: { name: string; arguments: string }, events: GenerationEvent[], id?: string, raw?: string): void {
    if (this.#options.parallelToolCalls === false && this.#calls > 0) return
    // `tool_choice` holds whatever the model writes: `none` allows no call, a named function only itself.
    const choice = this.#options.toolChoice
    if (choice === 'none' || (typeof choice === 'object' && choice.function.name !== call.name)) return
    this.#validator ??= new ToolCallValidator(this.#options.tools)
    const verdict = this.#validator.validate(call, this.#options.validation ?? 'none')
    if (!verdict.valid) {
      if (this.#options.fallback === 'text') this.#delta(raw ?? JSON.stringify({ name: call.name, arguments: call.arguments }), events)
      return
    }
    events.push({ type: 'tool-call-done', id: id || `call_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`, name: call.name, arguments: call.arguments || '{}', index: this.#calls++ })
  }
}
