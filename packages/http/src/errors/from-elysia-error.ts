import { ApiError, BadRequestError, NotFoundError, PayloadTooLargeError } from '@cy/core'
import { describeSchema, narrowIssue, quoteValue } from './describe-schema.ts'

/** The parts of a TypeBox value error we read (Elysia's validation errors carry the same). */
export interface ValueErrorLike {
  path?: string
  message?: string
  schema?: unknown
  value?: unknown
}

/** JSON pointer ("/messages/0/role") to OpenAI's param notation ("messages[0].role"). */
export function pointerToParam(pointer: string): string | null {
  const parts = pointer.split('/').filter(Boolean)
  if (parts.length === 0) return null
  let param = ''
  for (const part of parts) param += /^\d+$/.test(part) ? `[${part}]` : param ? `.${part}` : part
  return param
}

function describe(issue: ValueErrorLike, param: string | null): string {
  // What the schema accepts, in words ("a number between 0 and 2"), rather than TypeBox's "Expected union value".
  const expected = describeSchema(issue.schema)
  const what = /required property/i.test(issue.message ?? '') || !expected ? (issue.message ?? 'invalid value') : `expected ${expected}, got ${quoteValue(issue.value)}`
  if (!param) return `Invalid request body: ${what.charAt(0).toLowerCase()}${what.slice(1)}`
  if (/required property/i.test(what)) return `Missing required parameter: '${param}'.`
  return `Invalid value for '${param}': ${what.charAt(0).toLowerCase()}${what.slice(1)}.`
}

/** A 400 naming the most specific bad parameter: the deepest path among the schema's complaints. */
export function validationError(issues: readonly ValueErrorLike[]): BadRequestError {
  const issue = narrowIssue([...issues].sort((a, b) => (b.path?.length ?? 0) - (a.path?.length ?? 0))[0] ?? {})
  const param = pointerToParam(issue.path ?? '')
  return new BadRequestError(describe(issue, param), { param, code: 'invalid_value' })
}

/** A body that could not be read as JSON; a body cut off while read (over the size limit) keeps its own error. */
export function parseError(error: unknown): ApiError {
  const cause = (error as { cause?: unknown } | null)?.cause
  if (ApiError.isInstance(error)) return error
  if (ApiError.isInstance(cause)) return cause
  return new BadRequestError(
    'We could not parse the JSON body of your request. The body must be valid JSON (or multipart form data for file uploads).',
    { code: 'invalid_json' },
  )
}

/**
 * Maps Elysia's own errors (parse, validation, unknown route, body size) to typed API errors.
 * Returns undefined for anything that is not Elysia's.
 */
export function fromElysiaError(code: string | number, error: unknown): ApiError | undefined {
  if (ApiError.isInstance(error)) return error
  switch (code) {
    case 'PARSE':
      return parseError(error)
    case 'VALIDATION':
      return validationError((error as { all?: ValueErrorLike[] }).all ?? [])
    case 'NOT_FOUND':
      return new NotFoundError('Unknown route. See /docs for the routes this server serves.', { code: 'unknown_url' })
    case 413:
      return new PayloadTooLargeError('The request body is too large')
    default:
      return undefined
  }
}
