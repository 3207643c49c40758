import { liteChatRequest, LiteChatRequestSchema, type LiteChatRequest } from '../engine-api/lite-defaults.ts'
import { newId, unixSeconds } from '../ids.ts'
import { ChatJsonSink } from '../sinks/chat-json-sink.ts'
import { ChatSseSink } from '../sinks/chat-sse-sink.ts'
import { ChatCompletion } from '../wire/chat-completion.ts'
import { errorResponses } from '../wire/error-body.ts'
import { generationResponse, startGeneration } from './generate.ts'
import type { JsonRoute } from './json-route.ts'

export const chatCompletionsRoute: JsonRoute<LiteChatRequest> = {
  path: '/v1/chat/completions',
  schema: LiteChatRequestSchema,
  response: { 200: ChatCompletion, ...errorResponses },
  detail: {
    tags: ['Chat'],
    summary: 'Create a chat completion',
    description: 'Routes by `model`. With `stream: true` the answer comes as server-sent `chat.completion.chunk` events ending with `data: [DONE]`.',
  },
  async serve(ctx, lite, request) {
    const chat = liteChatRequest(ctx, lite)
    // Handlers read one limit whichever name the client used.
    if (chat.max_completion_tokens != null && chat.max_tokens == null) chat.max_tokens = chat.max_completion_tokens
    const meta = { id: newId('chatcmpl'), created: unixSeconds(), model: chat.model }
    const started = await startGeneration(ctx, chat, request, meta)
    const sink = chat.stream ? new ChatSseSink(meta, chat.stream_options?.include_usage === true) : new ChatJsonSink(meta)
    return generationResponse(ctx, started, chat.stream === true, sink)
  },
}
