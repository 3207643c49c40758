import { t } from 'elysia'

export const EmbeddingList = t.Object({
  object: t.Literal('list'),
  data: t.Array(
    t.Object({
      object: t.Literal('embedding'),
      index: t.Integer(),
      embedding: t.Union([t.Array(t.Number()), t.String({ description: 'base64 of little-endian float32' })]),
    }),
  ),
  model: t.String(),
  usage: t.Object({ prompt_tokens: t.Integer(), total_tokens: t.Integer() }),
})
