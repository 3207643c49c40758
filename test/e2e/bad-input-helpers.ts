import { expect } from 'bun:test'
import { assertMatchesSchema } from '../support/openapi-validator.ts'

/** What an OpenAI error body looks like on the wire. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

export interface ExpectedError {
  status: number
  /** Checked when present. */
  type?: string
  /** Checked when present (null included). */
  param?: string | null
  code?: string | null
  message?: string | RegExp
}

/**
 * A stack frame: "at fn (/path/file.ts:1:2)", "at async fn (/x.js:3:4)", "at /path/file.js:3:4", "at file:///x.ts:1:1",
 * "at C:\\x\\y.js:1:1": "at ", optional function words, then an absolute path.
 */
const STACK_FRAME = /\bat\s+(?:[^\s()]+\s+)*\(?(?:file:\/\/|\/|[A-Za-z]:\\)[^\s)]*(?:\.[cm]?[jt]sx?\b|:\d+)/

/** The body text carries no stack trace and no source location. */
export function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(STACK_FRAME)
  expect(text).not.toContain('.ts:')
}

/** Checks a parsed error body: OpenAI's ErrorResponse schema, then the fields asked for. */
export function expectErrorBody(body: unknown, expected: Omit<ExpectedError, 'status'>): ErrorBody {
  assertMatchesSchema('ErrorResponse', body)
  const error = (body as ErrorBody).error
  if (expected.type !== undefined) expect(error.type).toBe(expected.type)
  if (expected.param !== undefined) expect(error.param).toBe(expected.param)
  if (expected.code !== undefined) expect(error.code).toBe(expected.code)
  if (typeof expected.message === 'string') expect(error.message).toBe(expected.message)
  else if (expected.message) expect(error.message).toMatch(expected.message)
  return body as ErrorBody
}

/** Reads a Response and checks it is the OpenAI error expected: status, JSON, schema, fields, no stack. */
export async function expectApiError(response: Response, expected: ExpectedError): Promise<ErrorBody> {
  const text = await response.text()
  expect({ status: response.status, text }).toMatchObject({ status: expected.status })
  expect(response.headers.get('content-type') ?? '').toContain('application/json')
  expectNoStackTrace(text)
  return expectErrorBody(JSON.parse(text), expected)
}

export const JSON_HEADERS = { 'content-type': 'application/json' }

/** POSTs a JSON body (an object, or a raw string sent as is). */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { ...JSON_HEADERS, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  })
}

export const userMessages = [{ role: 'user', content: 'hi' }]

/** A promise with its resolve function, for handlers that wait on the test. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

/** Polls `check` until it returns true; fails after `timeoutMs` (a safety net, not a timing assertion). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}

export interface HealthBody {
  requests: { active: number; queued: number; max_concurrency: number | null }
}

export async function health(baseUrl: string, headers: Record<string, string> = {}): Promise<HealthBody> {
  const response = await fetch(`${baseUrl}/health`, { headers })
  expect(response.status).toBe(200)
  return (await response.json()) as HealthBody
}
