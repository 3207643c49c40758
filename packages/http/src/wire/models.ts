import { t } from 'elysia'

const nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) => t.Union([schema, t.Null()])

/** cy's extension beside OpenAI's fields: where the model is in its life, and what it is. */
export const ModelExtension = t.Object({
  state: t.Union(['loading', 'ready', 'unloading', 'unloaded', 'failed'].map((state) => t.Literal(state))),
  /** Why it failed, or why its last load was refused. */
  reason: t.Optional(t.String()),
  /** While loading: the stage, and a percentage when known. */
  progress: t.Optional(t.Object({ stage: t.String(), percent: t.Optional(t.Number()) })),
  adapter: nullable(t.String()),
  capabilities: t.Array(t.String()),
  context_length: nullable(t.Integer()),
  file: nullable(t.String()),
  size_bytes: nullable(t.Integer()),
  /** Unix seconds. */
  loaded_at: nullable(t.Integer()),
  last_used_at: nullable(t.Integer()),
  /** Other names that reach this model (a catalog model's Hugging Face id). */
  aliases: t.Optional(t.Array(t.String())),
  /** On an alias: the model it names. */
  alias_of: t.Optional(t.String()),
  /** A text-to-speech model's voices. */
  voices: t.Optional(t.Array(t.Object({ id: t.String(), name: t.String(), language: t.Optional(t.String()) }))),
})

export const ModelObject = t.Object({ id: t.String(), object: t.Literal('model'), created: t.Integer(), owned_by: t.String(), cy: ModelExtension })

export const ModelList = t.Object({ object: t.Literal('list'), data: t.Array(ModelObject) })

const StateCounts = t.Record(t.String(), t.Integer())

export const HealthBody = t.Object({
  status: t.Literal('ok'),
  uptime_seconds: t.Number(),
  models: t.Integer(),
  /** Models by state (loading, ready, unloading, unloaded, failed). */
  model_states: StateCounts,
  requests: t.Object({ active: t.Integer(), queued: t.Integer(), max_concurrency: t.Union([t.Integer(), t.Null()]) }),
  /** Sections added by the embedding application (a cluster master's workers, for one). */
  cluster: t.Optional(t.Unknown()),
}, { additionalProperties: true })

export const ReadyBody = t.Object({ status: t.Union([t.Literal('ready'), t.Literal('not_ready')]), model_states: StateCounts })
