import { Elysia } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { jsonResponse } from '../json-response.ts'
import { ReadyBody } from '../wire/models.ts'

/** The models readiness waits for: the app's eager ones, else every registered model. */
function required(ctx: ApiContext): string[] {
  return ctx.models?.required() ?? ctx.registry.list()
}

/** `GET /ready`, public like `/health`: 200 once every model it waits for is ready, else 503 (a readiness probe). */
export const readyRoute = (ctx: ApiContext) =>
  new Elysia().get(
    '/ready',
    () => {
      const ready = required(ctx).every((name) => ctx.registry.status(name)?.state === 'ready')
      return jsonResponse({ status: ready ? 'ready' : 'not_ready', model_states: ctx.registry.countByState() }, ready ? 200 : 503)
    },
    {
      response: { 200: ReadyBody, 503: ReadyBody },
      detail: { tags: ['Health'], summary: 'Readiness: 200 once every eagerly loaded model is ready, else 503; public' },
    },
  )
