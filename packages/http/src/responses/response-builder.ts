import type { ApiError, FinishReason, GenerationUsage, ResponsesRequest, ToolCallDoneEvent } from '@cy/core'
import { newId } from '../ids.ts'
import { outputTextPart, type ItemResource } from './response-items.ts'

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed'

/** The Responses API's error codes are few: ours map onto them by status. */
function responseErrorCode(error: ApiError): string {
  return error.status === 429 ? 'rate_limit_exceeded' : error.status === 400 ? 'invalid_prompt' : 'server_error'
}

export function responseUsage(usage: GenerationUsage | undefined) {
  const input = usage?.inputTokens ?? 0
  const output = usage?.outputTokens ?? 0
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage?.cachedTokens ?? 0, cache_write_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  }
}

/** A `response` object as it grows: its output items, then its status, usage or error. */
export class ResponseBuilder {
  readonly id = newId('resp', '_')
  readonly createdAt = Math.floor(Date.now() / 1000)
  readonly output: ItemResource[] = []
  status: ResponseStatus = 'in_progress'
  #message: { item: ItemResource; part: { text: string }; index: number } | undefined
  #usage: GenerationUsage | undefined
  #error: { code: string; message: string } | null = null
  #incomplete: { reason: 'max_output_tokens' | 'content_filter' } | null = null
  #completedAt: number | null = null

  constructor(readonly request: ResponsesRequest) {}

  /** The open message item, opened now if there is none. */
  message(): { item: ItemResource; part: { text: string }; index: number; opened: boolean } {
    if (this.#message) return { ...this.#message, opened: false }
    const part = outputTextPart('')
    const item: ItemResource = { id: newId('msg', '_'), type: 'message', status: 'in_progress', role: 'assistant', content: [part] }
    this.#message = { item, part, index: this.output.push(item) - 1 }
    return { ...this.#message, opened: true }
  }

  /** Closes the open message item, if any, and returns it. */
  closeMessage(): { item: ItemResource; part: { text: string }; index: number } | undefined {
    const open = this.#message
    if (!open) return undefined
    open.item.status = 'completed'
    this.#message = undefined
    return open
  }

  addFunctionCall(call: ToolCallDoneEvent): { item: ItemResource; index: number } {
    const item: ItemResource = { id: newId('fc', '_'), type: 'function_call', status: 'completed', call_id: call.id, name: call.name, arguments: call.arguments }
    return { item, index: this.output.push(item) - 1 }
  }

  complete(reason: FinishReason, usage: GenerationUsage | undefined): void {
    this.closeMessage()
    this.#usage = usage
    this.#completedAt = Math.floor(Date.now() / 1000)
    if (reason === 'length' || reason === 'content_filter') {
      this.status = 'incomplete'
      this.#incomplete = { reason: reason === 'length' ? 'max_output_tokens' : 'content_filter' }
    } else this.status = 'completed'
  }

  fail(error: ApiError): void {
    if (this.#message) this.#message.item.status = 'incomplete'
    this.#message = undefined
    this.status = 'failed'
    this.#error = { code: responseErrorCode(error), message: error.message }
  }

  /** The whole object, as `response.*` events and GET /v1/responses/{id} show it. */
  body(): Record<string, unknown> {
    const request = this.request
    const body: Record<string, unknown> = {
      id: this.id,
      object: 'response',
      created_at: this.createdAt,
      status: this.status,
      completed_at: this.#completedAt,
      error: this.#error,
      incomplete_details: this.#incomplete,
      instructions: request.instructions ?? null,
      max_output_tokens: request.max_output_tokens ?? null,
      model: request.model,
      output: this.output.map((item) => structuredClone(item)),
      parallel_tool_calls: request.parallel_tool_calls ?? true,
      previous_response_id: request.previous_response_id ?? null,
      store: request.store ?? true,
      temperature: request.temperature ?? 1,
      top_p: request.top_p ?? 1,
      text: { format: request.text?.format ?? { type: 'text' } },
      tool_choice: request.tool_choice ?? 'auto',
      tools: (request.tools ?? []).map((tool) => ({ description: null, parameters: null, strict: null, ...tool })),
      truncation: 'disabled',
      metadata: request.metadata ?? {},
    }
    if (this.status !== 'in_progress') body.usage = responseUsage(this.#usage)
    if (request.user !== undefined) body.user = request.user
    return body
  }
}
