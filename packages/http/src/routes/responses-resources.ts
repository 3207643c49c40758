import { BadRequestError, NotFoundError } from '@cy/core'
import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { callerId } from '../caller-id.ts'
import { jsonResponse } from '../json-response.ts'
import { ErrorBody } from '../wire/error-body.ts'
import { ResponseObject } from '../wire/response-object.ts'

const Params = t.Object({ id: t.String() })

/** The caller's own stored response; another key's is as unknown as one that never was. */
function stored(ctx: ApiContext, request: Request, id: string) {
  const found = ctx.responses.get(id, callerId(ctx, request))
  if (!found) throw new NotFoundError(`Response with id '${id}' not found.`, { param: 'response_id', code: 'response_not_found' })
  return found
}

/** Stored responses: retrieve, delete, and the input items they were given. */
/** A page size from the query: an integer between 1 and 100, 20 when absent. */
function pageLimit(value: string | undefined): number {
  if (value === undefined) return 20
  const limit = Number(value)
  if (!/^\d+$/.test(value) || limit < 1 || limit > 100) {
    throw new BadRequestError(`Invalid value for 'limit': expected an integer between 1 and 100, got ${JSON.stringify(value)}.`, { param: 'limit', code: 'invalid_value' })
  }
  return limit
}

export const responsesResourcesRoute = (ctx: ApiContext) =>
  new Elysia()
    .get('/v1/responses/:id', ({ params, request }) => jsonResponse(stored(ctx, request, params.id).response), {
      params: Params,
      response: { 200: ResponseObject, 404: ErrorBody },
      detail: { tags: ['Responses'], summary: 'Retrieve a stored response' },
    })
    .delete(
      '/v1/responses/:id',
      ({ params, request }) => {
        const found = stored(ctx, request, params.id)
        ctx.responses.delete(params.id, found.owner)
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
      ({ params, query, request }) => {
        const items = stored(ctx, request, params.id).inputItems
        const ordered = query.order === 'asc' ? items : [...items].reverse()
        const start = query.after ? ordered.findIndex((item) => item.id === query.after) + 1 : 0
        if (start === 0 && query.after) {
          throw new BadRequestError(`No input item with id '${query.after}' in response '${params.id}'.`, { param: 'after', code: 'invalid_value' })
        }
        const limit = pageLimit(query.limit)
        const data = ordered.slice(start, start + limit)
        return jsonResponse({ object: 'list', data, first_id: data[0]?.id ?? '', last_id: data.at(-1)?.id ?? '', has_more: start + limit < ordered.length })
      },
      {
        params: Params,
        query: t.Object({
          // Read by pageLimit, so that a bad value is a 400 naming `limit` (Elysia's query errors name nothing).
          limit: t.Optional(t.String({ description: 'An integer between 1 and 100 (default 20)' })),
          order: t.Optional(t.Union([t.Literal('asc'), t.Literal('desc')])),
          after: t.Optional(t.String()),
        }),
        response: { 400: ErrorBody, 404: ErrorBody },
        detail: { tags: ['Responses'], summary: "List a stored response's input items" },
      },
    )
