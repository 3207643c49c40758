import { Elysia } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { jsonResponse } from '../json-response.ts'
import { modelObject } from '../wire/model-object.ts'
import { HealthBody } from '../wire/models.ts'
import { readyRoute } from './ready.ts'

/** Liveness and load counts: all that a caller without the key may see. */
function liveness(ctx: ApiContext): Record<string, unknown> {
  const { limiter } = ctx.dispatcher
  const max = limiter.limits.maxConcurrency
  return {
    status: 'ok',
    uptime_seconds: Math.round((Date.now() - ctx.startedAt) / 1000),
    models: ctx.registry.list().length,
    model_states: ctx.registry.countByState(),
    requests: { active: limiter.active, queued: ctx.dispatcher.waiting, max_concurrency: Number.isFinite(max) && max > 0 ? max : null },
  }
}

export const healthRoute = (ctx: ApiContext) =>
  new Elysia()
    .get('/health', () => jsonResponse(liveness(ctx)), {
      response: { 200: HealthBody },
      detail: { tags: ['Health'], summary: 'Liveness and load; public, answers while models work' },
    })
    .get(
      '/health/details',
      () => {
        const body = liveness(ctx)
        // Which model is in which state (and why it failed): names are for those with the key.
        body.model_details = ctx.registry.infos().map((info) => ({ id: info.id, ...modelObject(info).cy, in_flight: info.inFlight }))
        for (const [name, detail] of ctx.healthDetails) body[name] = detail()
        return jsonResponse(body)
      },
      {
        response: { 200: HealthBody },
        detail: {
          tags: ['Health'],
          summary: 'Liveness, load, each model\'s state, and the sections the application adds (a cluster master: its workers)',
          description: 'Needs the API key when one is set: it names workers, their addresses and models.',
        },
      },
    )
    .use(readyRoute(ctx))
