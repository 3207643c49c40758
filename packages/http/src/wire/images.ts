import { t } from 'elysia'

const Usage = t.Object({
  input_tokens: t.Integer({ description: 'CLIP tokens of the prompt (and, for edits, image tokens).' }),
  input_tokens_details: t.Object({ text_tokens: t.Integer(), image_tokens: t.Integer() }),
  output_tokens: t.Integer(),
  total_tokens: t.Integer(),
})

export const ImagesBody = t.Object({
  created: t.Integer(),
  data: t.Array(t.Object({ b64_json: t.Optional(t.String()), url: t.Optional(t.String()), revised_prompt: t.Optional(t.String()) })),
  background: t.Optional(t.Union([t.Literal('opaque'), t.Literal('transparent')])),
  output_format: t.Optional(t.Union([t.Literal('png'), t.Literal('jpeg'), t.Literal('webp')])),
  size: t.Optional(t.String({ description: "Given only for OpenAI's named sizes (1024x1024, 1024x1536, 1536x1024)." })),
  quality: t.Optional(t.String()),
  usage: t.Optional(Usage),
})
