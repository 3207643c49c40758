import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Elysia } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { errorResponse } from '../errors/error-response.ts'
import { parseError, validationError } from '../errors/from-elysia-error.ts'
import { applyCors } from '../guards/cors.ts'
import { checkRequest } from '../guards/request-checks.ts'

/** A POST route with a JSON body: its path, schema, docs, and what it does with a valid body. */
export interface JsonRoute<Body> {
  path: string
  schema: TSchema
  response: Record<number, TSchema>
  detail: { tags: string[]; summary: string; description?: string }
  serve(ctx: ApiContext, body: Body, request: Request): Promise<Response>
}

/**
 * A JSON route's one request path: the checks (Host, Origin, size, key), the body, its schema, the route;
 * every error in OpenAI's shape, CORS on every answer. `Bun.serve`'s routes and the Elysia plugin both
 * call it, so `app.handle`, `openaiPlugin` and the listening server answer alike.
 */
export function jsonRouteHandler<Body>(ctx: ApiContext, route: JsonRoute<Body>): (request: Request) => Promise<Response> {
  const validator = TypeCompiler.Compile(route.schema)
  return async (request) => {
    try {
      // The path the router matched, never one read from the URL (which Bun builds from the client's `Host`).
      const checked = checkRequest(ctx, request, route.path)
      let body: unknown
      try {
        // Any content type: `curl -d` sends form-urlencoded. What keeps web pages out is the Origin check.
        body = await checked.json()
      } catch (error) {
        throw parseError(error)
      }
      ctx.holdOpen(request)
      if (!validator.Check(body)) throw validationError([...validator.Errors(body)])
      return applyCors(request, await route.serve(ctx, body as Body, request), ctx.origins)
    } catch (error) {
      return applyCors(request, errorResponse(error, route.path), ctx.origins)
    }
  }
}

/**
 * The route in the Elysia plugin: the same handler, given the request untouched. Elysia neither parses
 * nor validates the body (the handler reads only `request`); the docs take the schemas from `jsonRouteDocs`.
 */
export function elysiaJsonRoute<Body>(ctx: ApiContext, route: JsonRoute<Body>) {
  const handle = jsonRouteHandler(ctx, route)
  return new Elysia().post(route.path, ({ request }) => handle(request), { detail: route.detail })
}

/** The request and response schemas of the JSON routes, as the OpenAPI generator's references. */
export function jsonRouteDocs(routes: readonly JsonRoute<unknown>[]): Record<string, { post: { body: TSchema; response: Record<number, TSchema> } }> {
  return Object.fromEntries(routes.map((route) => [route.path, { post: { body: route.schema, response: route.response } }]))
}
