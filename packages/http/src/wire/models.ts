import { t } from 'elysia'

export const ModelObject = t.Object({ id: t.String(), object: t.Literal('model'), created: t.Integer(), owned_by: t.String() })

export const ModelList = t.Object({ object: t.Literal('list'), data: t.Array(ModelObject) })

export const HealthBody = t.Object({
  status: t.Literal('ok'),
  uptime_seconds: t.Number(),
  models: t.Integer(),
  requests: t.Object({ active: t.Integer(), queued: t.Integer(), max_concurrency: t.Union([t.Integer(), t.Null()]) }),
  /** Sections added by the embedding application (a cluster master's workers, for one). */
  cluster: t.Optional(t.Unknown()),
}, { additionalProperties: true })
