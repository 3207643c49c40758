import { t } from 'elysia'

export const ImagesBody = t.Object({
  created: t.Integer(),
  data: t.Array(t.Object({ b64_json: t.Optional(t.String()), url: t.Optional(t.String()), revised_prompt: t.Optional(t.String()) })),
})
