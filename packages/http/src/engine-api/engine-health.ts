import type { ApiContext } from '../api-context.ts'
import { t } from 'elysia'

type Status = 'UP' | 'DOWN'

/** The cluster master's workers, as its `/health/details` section lists them (withdrawn once their heartbeats stop). */
function clusterWorkers(ctx: ApiContext): unknown[] | undefined {
  const cluster = ctx.healthDetails.get('cluster')?.() as { mode?: string; workers?: unknown[] } | undefined
  return cluster?.mode === 'master' && Array.isArray(cluster.workers) ? cluster.workers : undefined
}

/** `1h0m0s`, as the seed writes an uptime. */
function uptimeText(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m${seconds % 60}s`
}

/**
 * The engine API's health: the gateway (this HTTP server, UP while it answers), the coordinator (the
 * dispatcher and, on a cluster master, its workers: DOWN when none is joined) and the models (DOWN when
 * one failed). The whole is UP when every component is.
 */
export function engineHealth(ctx: ApiContext, details: boolean) {
  const workers = clusterWorkers(ctx)
  // Standalone, this process is the one worker; a master counts the workers that have joined it.
  const total = workers ? workers.length : 1
  const coordinator: Status = total > 0 ? 'UP' : 'DOWN'
  const states = ctx.registry.countByState()
  const models: Status = states.failed > 0 ? 'DOWN' : 'UP'
  const status: Status = coordinator === 'UP' && models === 'UP' ? 'UP' : 'DOWN'
  const timestamp = new Date().toISOString()
  if (!details) return { status, components: { gateway: 'UP', coordinator, models }, timestamp }
  const { limiter } = ctx.dispatcher
  return {
    status,
    components: {
      gateway: { status: 'UP', details: { startTime: new Date(ctx.startedAt).toISOString(), uptime: uptimeText(Date.now() - ctx.startedAt) } },
      coordinator: {
        status: coordinator,
        details: {
          mode: workers ? 'cluster' : 'standalone',
          workers: { total, healthy: total, unhealthy: 0 },
          queue: { pendingTasks: ctx.dispatcher.waiting, maxSize: limiter.limits.maxQueue, active: limiter.active },
          tenants: ctx.tenants.snapshot(),
        },
      },
      models: { status: models, details: { total: ctx.registry.list().length, states } },
    },
    timestamp,
  }
}

const Status = t.Union([t.Literal('UP'), t.Literal('DOWN')])
const Component = <T extends Record<string, any>>(details: T) => t.Object({ status: Status, details: t.Object(details) })
const Count = t.Integer({ minimum: 0 })

export const EngineHealth = t.Object(
  { status: Status, components: t.Object({ gateway: Status, coordinator: Status, models: Status }), timestamp: t.String({ format: 'date-time' }) },
  { description: 'UP when every component is: the gateway, the coordinator (a cluster master with no worker is DOWN), the models (DOWN when one failed).' },
)

export const EngineHealthDetails = t.Object(
  {
    status: Status,
    components: t.Object({
      gateway: Component({ startTime: t.String({ format: 'date-time' }), uptime: t.String({ description: '`1h0m0s`' }) }),
      coordinator: Component({
        mode: t.Union([t.Literal('standalone'), t.Literal('cluster')]),
        workers: t.Object({ total: Count, healthy: Count, unhealthy: Count }, { description: 'Standalone: this process. A master: its joined workers (one whose heartbeats stop is withdrawn).' }),
        queue: t.Object({ pendingTasks: Count, maxSize: Count, active: Count }, { description: 'Requests waiting for a slot, the most that may, and those running.' }),
        tenants: t.Record(t.String(), t.Object({ active: Count, pendingTasks: Count, maxConcurrency: Count }), { description: 'Each tenant with a concurrency limit of its own.' }),
      }),
      models: Component({ total: Count, states: t.Record(t.String(), Count) }),
    }),
    timestamp: t.String({ format: 'date-time' }),
  },
  { description: 'Health with each component\'s details.' },
)
