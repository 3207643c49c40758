import { CompletionRequestSchema, type CompletionRequest } from '@cy/core'
import { CompletionStreamEncoder, completionBody } from '../encoders/completion.ts'
import { collectText } from '../encoders/text-result.ts'
import { newId, unixSeconds } from '../ids.ts'
import { jsonResponse } from '../json-response.ts'
import { SSE_HEADERS } from '../sse/sse-frame.ts'
import { streamResponse } from '../sse/stream-response.ts'
import { CompletionBody } from '../wire/chat-completion.ts'
import { errorResponses } from '../wire/error-body.ts'
import { start } from './generate.ts'
import type { JsonRoute } from './json-route.ts'
import { then } from '../next-batch.ts'

/** Each prompt's text as `echo` repeats it (a token-array prompt has none here: the route has no tokenizer). */
function promptTexts(prompt: CompletionRequest['prompt']): string[] {
  if (typeof prompt === 'string') return [prompt]
  if (prompt.length === 0 || typeof prompt[0] === 'number') return ['']
  return (prompt as Array<string | number[]>).map((entry) => (typeof entry === 'string' ? entry : ''))
}

export const completionsRoute: JsonRoute<CompletionRequest> = {
  path: '/v1/completions',
  schema: CompletionRequestSchema,
  response: { 200: CompletionBody, ...errorResponses },
  detail: { tags: ['Completions'], summary: 'Create a text completion (legacy)', description: 'JSON, or SSE with `stream: true`.' },
  serve(ctx, completion, request) {
    return then(start(ctx, 'completion', completion, request), ({ channel, first }) => {
      const meta = { id: newId('cmpl'), created: unixSeconds(), model: completion.model }
      // OpenAI's order: prompt by prompt, `n` choices each.
      const n = completion.n ?? 1
      const prompts = promptTexts(completion.prompt)
      if (completion.stream) {
        const encoder = new CompletionStreamEncoder(meta, completion.stream_options?.include_usage === true, n * prompts.length)
        return streamResponse(channel, first, encoder, SSE_HEADERS, ctx.sseKeepAliveMs)
      }
      const echo = (index: number) => (completion.echo ? (prompts[Math.floor(index / n)] ?? '') : '')
      return then(collectText(channel, first), (results) => jsonResponse(completionBody(meta, results, echo)))
    })
  },
}
