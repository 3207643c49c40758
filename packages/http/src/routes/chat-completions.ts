import { ChatRequestSchema, type ChatRequest } from '@cy/core'
import { ChatStreamEncoder, chatCompletionBody } from '../encoders/chat-completion.ts'
import { collectText } from '../encoders/text-result.ts'
import { newId, unixSeconds } from '../ids.ts'
import { jsonResponse } from '../json-response.ts'
import { SSE_HEADERS } from '../sse/sse-frame.ts'
import { streamResponse } from '../sse/stream-response.ts'
import { ChatCompletion } from '../wire/chat-completion.ts'
import { errorResponses } from '../wire/error-body.ts'
import { start } from './generate.ts'
import type { JsonRoute } from './json-route.ts'
import { then } from '../next-batch.ts'

export const chatCompletionsRoute: JsonRoute<ChatRequest> = {
  path: '/v1/chat/completions',
  schema: ChatRequestSchema,
  response: { 200: ChatCompletion, ...errorResponses },
  detail: {
    tags: ['Chat'],
    summary: 'Create a chat completion',
    description: 'Routes by `model`. With `stream: true` the answer comes as server-sent `chat.completion.chunk` events ending with `data: [DONE]`.',
  },
  serve(ctx, chat, request) {
    // Handlers read one limit whichever name the client used.
    if (chat.max_completion_tokens != null && chat.max_tokens == null) chat.max_tokens = chat.max_completion_tokens
    return then(start(ctx, 'chat', chat, request), ({ channel, first }) => {
      const meta = { id: newId('chatcmpl'), created: unixSeconds(), model: chat.model }
      if (chat.stream) {
        return streamResponse(channel, first, new ChatStreamEncoder(meta, chat.stream_options?.include_usage === true), SSE_HEADERS)
      }
      return then(collectText(channel, first), (result) => jsonResponse(chatCompletionBody(meta, result)))
    })
  },
}
