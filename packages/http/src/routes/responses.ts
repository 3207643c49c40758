import { BadRequestError, ResponsesRequestSchema, type ResponsesRequest } from '@cy/core'
import { callerId } from '../caller-id.ts'
import { responseImageParam } from '../media/response-image-param.ts'
import { ResponseBuilder } from '../responses/response-builder.ts'
import { inputItems, type ItemResource } from '../responses/response-items.ts'
import { responsesToChat } from '../responses/responses-to-chat.ts'
import { ResponsesJsonSink } from '../sinks/responses-json-sink.ts'
import { ResponsesSseSink } from '../sinks/responses-sse-sink.ts'
import { ResponseObject } from '../wire/response-object.ts'
import { errorResponses } from '../wire/error-body.ts'
import { generationResponse, startGeneration } from './generate.ts'
import type { JsonRoute } from './json-route.ts'

export const responsesRoute: JsonRoute<ResponsesRequest> = {
  path: '/v1/responses',
  schema: ResponsesRequestSchema,
  response: { 200: ResponseObject, ...errorResponses },
  detail: {
    tags: ['Responses'],
    summary: 'Create a model response',
    description:
      'Routes by `model` like chat completions, and runs through the same gateway (tool bridge, validation, sessions). With `stream: true` the answer comes as OpenAI\'s `response.*` events. Stored (unless `store: false`) for GET, DELETE and `previous_response_id`.',
  },
  async serve(ctx, body, request) {
    const owner = callerId(ctx, request)
    const parentId = body.previous_response_id ?? null
    let history: ItemResource[] = []
    if (parentId) {
      // Unknown, expired, or another key's: the same 400 (as OpenAI answers), which tells nothing about others' ids.
      const previous = ctx.responses.conversation(parentId, owner)
      if (!previous) throw new BadRequestError(`Previous response with id '${parentId}' not found.`, { param: 'previous_response_id', code: 'previous_response_not_found' })
      history = previous
    }
    const input = inputItems(body.input)
    if (history.length === 0 && input.length === 0) throw new BadRequestError('`input` is required (or `previous_response_id`)', { param: 'input' })
    const builder = new ResponseBuilder(body)
    const save = () => {
      if (body.store === false) return
      ctx.responses.save({ owner, parentId, response: builder.body(), inputItems: input })
    }
    const chat = responsesToChat(body, [...history, ...input])
    const started = await startGeneration(ctx, chat, request, { id: builder.id, created: builder.createdAt }, responseImageParam(history, input))
    return generationResponse(ctx, started, body.stream === true, body.stream ? new ResponsesSseSink(builder) : new ResponsesJsonSink(builder), save)
  },
}
