import { ChatRequestSchema, type ChatRequest } from '@cy/core'
import { newId, unixSeconds } from '../ids.ts'
import { rawJsonResponse } from '../json-response.ts'
import { ChatJsonSink } from '../sinks/chat-json-sink.ts'
import { ChatSseSink } from '../sinks/chat-sse-sink.ts'
import { collectEvents } from '../sinks/collect-events.ts'
import { EventStreamEncoder } from '../sinks/event-stream-encoder.ts'
import { SSE_HEADERS } from '../sse/sse-frame.ts'
import { streamResponse } from '../sse/stream-response.ts'
import { ChatCompletion } from '../wire/chat-completion.ts'
import { errorResponses } from '../wire/error-body.ts'
import { startGeneration } from './generate.ts'
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
    const meta = { id: newId('chatcmpl'), created: unixSeconds(), model: chat.model }
    return then(startGeneration(ctx, chat, request, meta), ({ channel, first, pipeline }) => {
      if (chat.stream) {
        const sink = new ChatSseSink(meta, chat.stream_options?.include_usage === true)
        return streamResponse(channel, first, new EventStreamEncoder(pipeline, sink), SSE_HEADERS, ctx.sseKeepAliveMs)
      }
      return then(collectEvents(channel, first, pipeline, new ChatJsonSink(meta)), (body) => rawJsonResponse(body))
    })
  },
}
