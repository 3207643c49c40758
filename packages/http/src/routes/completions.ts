import { CompletionRequestSchema, type CompletionRequest, type DispatchOptions } from '@cy/core'
import type { ApiContext } from '../api-context.ts'
import { newId, unixSeconds } from '../ids.ts'
import { CompletionJsonSink } from '../sinks/completion-json-sink.ts'
import { CompletionSseSink } from '../sinks/completion-sse-sink.ts'
import { CompletionBody } from '../wire/chat-completion.ts'
import { errorResponses } from '../wire/error-body.ts'
import { generationResponse, type StartedGeneration } from './generate.ts'
import type { JsonRoute } from './json-route.ts'

/** Each prompt's text as `echo` repeats it (a token-array prompt has none here: the route has no tokenizer). */
function promptTexts(prompt: CompletionRequest['prompt']): string[] {
  if (typeof prompt === 'string') return [prompt]
  if (prompt.length === 0 || typeof prompt[0] === 'number') return ['']
  return (prompt as Array<string | number[]>).map((entry) => (typeof entry === 'string' ? entry : ''))
}

/**
 * The one completion path, of `/v1/completions` and the engine API's inference (`/api/v1`, gRPC): the
 * events pipeline for `choices` choices and the request through the dispatcher. Nothing has read the
 * channel yet.
 */
export async function startCompletion(
  ctx: ApiContext,
  completion: CompletionRequest,
  meta: { id: string; created: number; model: string },
  choices: number,
  options: DispatchOptions,
): Promise<Omit<StartedGeneration, 'first'>> {
  const pipeline = ctx.gateway.completionPipeline({ responseId: meta.id, model: meta.model, created: meta.created }, choices)
  const channel = await ctx.dispatcher.dispatch('completion', completion, options)
  return { channel, pipeline }
}

export const completionsRoute: JsonRoute<CompletionRequest> = {
  path: '/v1/completions',
  schema: CompletionRequestSchema,
  response: { 200: CompletionBody, ...errorResponses },
  detail: { tags: ['Completions'], summary: 'Create a text completion (legacy)', description: 'JSON, or SSE with `stream: true`.' },
  async serve(ctx, completion, request) {
    const meta = { id: newId('cmpl'), created: unixSeconds(), model: completion.model }
    // OpenAI's order: prompt by prompt, `n` choices each.
    const n = completion.n ?? 1
    const prompts = promptTexts(completion.prompt)
    const { channel, pipeline } = await startCompletion(ctx, completion, meta, n * prompts.length, { signal: () => request.signal, trace: ctx.observer.record(request) })
    const started = { channel, first: channel.take(), pipeline }
    const echo = (index: number) => (completion.echo ? (prompts[Math.floor(index / n)] ?? '') : '')
    const sink = completion.stream ? new CompletionSseSink(meta, completion.stream_options?.include_usage === true) : new CompletionJsonSink(meta, echo)
    return generationResponse(ctx, started, completion.stream === true, sink)
  },
}
