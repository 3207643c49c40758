import { t } from 'elysia'

export const ErrorBody = t.Object(
  {
    error: t.Object({
      message: t.String(),
      type: t.String(),
      param: t.Union([t.String(), t.Null()]),
      code: t.Union([t.String(), t.Null()]),
    }),
  },
  { description: 'Every error: OpenAI shape, with the HTTP status telling its kind.' },
)

/** The error responses every model route can give, for the docs. */
export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  404: ErrorBody,
  413: ErrorBody,
  429: ErrorBody,
  499: ErrorBody,
  502: ErrorBody,
  504: ErrorBody,
} as const
