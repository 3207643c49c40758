import { t } from 'elysia'

/** The `response` object, loosely: its documented fields are many; these are the ones every answer has. */
export const ResponseObject = t.Object(
  {
    id: t.String(),
    object: t.Literal('response'),
    created_at: t.Number(),
    status: t.String(),
    model: t.String(),
    output: t.Array(t.Record(t.String(), t.Unknown())),
  },
  { additionalProperties: true, description: 'A model response (Responses API).' },
)
