import { Elysia } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { jsonResponse } from '../json-response.ts'
import { HealthBody } from '../wire/models.ts'

export const healthRoute = (ctx: ApiContext) =>
  new Elysia().get(
    '/health',
    () => {
      const { limiter } = ctx.dispatcher
      const max = limiter.limits.maxConcurrency
      const body: Record<string, unknown> = {
        status: 'ok',
        uptime_seconds: Math.round((Date.now() - ctx.startedAt) / 1000),
        models: ctx.registry.list().length,
        requests: { active: limiter.active, queued: limiter.queued, max_concurrency: Number.isFinite(max) && max > 0 ? max : null },
      }
      for (const [name, detail] of ctx.healthDetails) body[name] = detail()
      return jsonResponse(body)
    },
    { response: { 200: HealthBody }, detail: { tags: ['Health'], summary: 'Liveness and load; answers while models work' } },
  )
