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

export const completionsRoute: JsonRoute<CompletionRequest> = {
  path: '/v1/completions',
  schema: CompletionRequestSchema,
  response: { 200: CompletionBody, ...errorResponses },
  detail: { tags: ['Completions'], summary: 'Create a text completion (legacy)', description: 'JSON, or SSE with `stream: true`.' },
  serve(ctx, completion, request) {
    return then(start(ctx, 'completion', completion, request), ({ channel, first }) => {
      const meta = { id: newId('cmpl'), created: unixSeconds(), model: completion.model }
      if (completion.stream) {
        return streamResponse(channel, first, new CompletionStreamEncoder(meta, completion.stream_options?.include_usage === true), SSE_HEADERS)
      }
      const echo = completion.echo && typeof completion.prompt === 'string' ? completion.prompt : ''
      return then(collectText(channel, first), (result) => jsonResponse(completionBody(meta, result, echo)))
    })
  },
}
