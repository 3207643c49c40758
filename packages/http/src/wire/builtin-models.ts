import { t, type Static } from 'elysia'

export const BUILTIN_STATES = ['not_downloaded', 'downloading', 'downloaded', 'loaded'] as const

/** A catalog model: what it is, where it comes from, and where it stands here. */
export const BuiltinModelObject = t.Object({
  id: t.String(),
  object: t.Literal('builtin_model'),
  /** The Hugging Face repository. */
  hf: t.String(),
  revision: t.String(),
  files: t.Array(t.String()),
  /** Other names a request's `model` may use for it (its Hugging Face id). */
  aliases: t.Array(t.String()),
  capabilities: t.Array(t.String()),
  adapter: t.String(),
  description: t.String(),
  license: t.String(),
  /** Bytes of all its files, when the catalog says. */
  size_bytes: t.Union([t.Integer(), t.Null()]),
  size_approximate: t.Boolean(),
  state: t.Union(BUILTIN_STATES.map((state) => t.Literal(state))),
  /** While downloading: the bytes so far and in all (0 while the total is not known yet). */
  progress: t.Optional(t.Object({ done_bytes: t.Integer(), total_bytes: t.Integer() })),
  /** Why the last download failed, until another starts. */
  error: t.Optional(t.String()),
  /** The snapshot paths in the Hugging Face cache, once downloaded. */
  paths: t.Optional(t.Array(t.String())),
})

export const BuiltinModelList = t.Object({ object: t.Literal('list'), data: t.Array(BuiltinModelObject) })

/** The `progress` events of `POST /models/builtin/{id}/download?stream=true`. */
export const BuiltinProgressEvent = t.Object({ id: t.String(), state: t.Literal('downloading'), done_bytes: t.Integer(), total_bytes: t.Integer() })

export type BuiltinModelBody = Static<typeof BuiltinModelObject>
