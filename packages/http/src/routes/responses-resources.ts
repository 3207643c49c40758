import { NotFoundError } from '@cy/core'
import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { jsonResponse } from '../json-response.ts'
import { ErrorBody } from '../wire/error-body.ts'
import { ResponseObject } from '../wire/response-object.ts'

const Params = t.Object({ id: t.String() })

function stored(ctx: ApiContext, id: string) {
  const found = ctx.responses.get(id)
  if (!found) throw new NotFoundError(`Response with id '${id}' not found.`, { param: 'response_id', code: 'response_not_found' })
  return found
}

/** Stored responses: retrieve, delete, and the input items they were given. */
export const responsesResourcesRoute = (ctx: ApiContext) =>
  new Elysia()
    .get('/v1/responses/:id', ({ params }) => jsonResponse(stored(ctx, params.id).response), {
      params: Params,
      response: { 200: ResponseObject, 404: ErrorBody },
      detail: { tags: ['Responses'], summary: 'Retrieve a stored response' },
    })
    .delete(
      '/v1/responses/:id',
      ({ params }) => {
        stored(ctx, params.id)
        ctx.responses.delete(params.id)
        return jsonResponse({ id: params.id, object: 'response', deleted: true })
      },
      {
        params: Params,
        response: { 200: t.Object({ id: t.String(), object: t.Literal('response'), deleted: t.Boolean() }), 404: ErrorBody },
        detail: { tags: ['Responses'], summary: 'Delete a stored response' },
      },
    )
    .get(
      '/v1/responses/:id/input_items',
      ({ params, query }) => {
        const items = stored(ctx, params.id).inputItems
        const ordered = query.order === 'asc' ? items : [...items].reverse()
        const start = query.after ? ordered.findIndex((item) => item.id === query.after) + 1 : 0
        const limit = query.limit ?? 20
        const data = ordered.slice(start, start + limit)
        return jsonResponse({ object: 'list', data, first_id: data[0]?.id ?? '', last_id: data.at(-1)?.id ?? '', has_more: start + limit < ordered.length })
      },
      {
        params: Params,
        query: t.Object({
          limit: t.Optional(t.Integer({ minimum: 1, maximum: 100 })),
          order: t.Optional(t.Union([t.Literal('asc'), t.Literal('desc')])),
          after: t.Optional(t.String()),
        }),
        detail: { tags: ['Responses'], summary: "List a stored response's input items" },
      },
    )
