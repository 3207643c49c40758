import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import { startTestServer } from '../support/test-server.ts'
import { rawRequest, type RawResponse } from './security-raw-http.ts'

const KEY = 'secret'
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** Every model kind, answering at once, so each route's 2xx with the key shows the row is a real route. */
function registerEverything(s: Server): void {
  s.registerChat('chat-a', (_req, out) => {
    out.push(OutputChunk.textDelta('ok'))
    out.end()
  })
  s.registerCompletion('comp', (_req, out) => {
    out.push(OutputChunk.textDelta('ok'))
    out.end()
  })
  s.registerEmbedding('embed', (_req, out) => {
    out.push(OutputChunk.embedding(0, [1, 0]))
    out.end()
  })
  s.registerTTS('voice', (_req, out) => {
    out.push(OutputChunk.audio(new Uint8Array(64), 'pcm', 24000, 1))
    out.end()
  })
  s.registerImageGeneration(
    'painter',
    (_req, out) => {
      out.push(OutputChunk.image(PNG))
      out.end()
    },
    { supports: { image: ['image'] } },
  )
  s.registerASR('whisper', (_req, out) => {
    out.push(OutputChunk.finalText('heard'))
    out.end()
  })
}

interface Row {
  method: 'GET' | 'POST' | 'DELETE' | 'OPTIONS'
  path: string
  body?: string
  contentType?: string
}

/** A multipart upload as the SDK sends it: its bytes and content type. */
async function multipart(): Promise<{ body: string; contentType: string }> {
  const form = new FormData()
  form.set('model', 'whisper')
  form.set('file', new File([new Uint8Array(32).fill(1)], 'clip.wav', { type: 'audio/wav' }))
  const encoded = new Request('http://form.invalid', { method: 'POST', body: form })
  // The content type first: Bun drops it once the body has been read.
  const contentType = encoded.headers.get('content-type')!
  return { body: await encoded.text(), contentType }
}

const json = (value: unknown) => ({ body: JSON.stringify(value), contentType: 'application/json' })

let server: Server
let port: number
let protectedRows: Row[]
let publicRows: Row[]

const send = (row: Row, host: string | null, headers: Record<string, string> = {}): Promise<RawResponse> =>
  rawRequest(port, { method: row.method, path: row.path, host, headers: { ...(row.contentType ? { 'content-type': row.contentType } : {}), ...headers } }, row.body)

/** The OpenAI error code in a body, or what else the body is. */
function errorCode(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? 'no error code'
  } catch {
    return `not JSON: ${body.slice(0, 30)}`
  }
}

const label = (row: Row) => `${row.method} ${row.path.replace(/resp_\w+|[0-9a-f]{32}/, '{id}')}`

beforeAll(async () => {
  // Any Host name is accepted here (as when bound to 0.0.0.0): what is tested is the key alone.
  server = await startTestServer({ apiKey: KEY, allowedHosts: '*' }, registerEverything)
  port = server.port
  const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }
  const stored = (await (await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'chat-a', input: 'hi' }) })).json()) as { id: string }
  const image = (await (
    await fetch(`${server.url}/v1/images/generations`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'painter', prompt: 'a cat', response_format: 'url' }) })
  ).json()) as { data: Array<{ url: string }> }
  const upload = await multipart()
  protectedRows = [
    { method: 'GET', path: '/v1/models' },
    { method: 'GET', path: '/v1/models/chat-a' },
    { method: 'POST', path: '/v1/chat/completions', ...json({ model: 'chat-a', messages: [{ role: 'user', content: 'hi' }] }) },
    { method: 'POST', path: '/v1/chat/completions?stream=ignored', ...json({ model: 'chat-a', messages: [{ role: 'user', content: 'hi' }] }) },
    { method: 'POST', path: '/v1/completions', ...json({ model: 'comp', prompt: 'hi' }) },
    { method: 'POST', path: '/v1/embeddings', ...json({ model: 'embed', input: 'hi' }) },
    { method: 'POST', path: '/v1/audio/speech', ...json({ model: 'voice', input: 'hi', voice: 'alloy', response_format: 'pcm' }) },
    { method: 'POST', path: '/v1/images/generations', ...json({ model: 'painter', prompt: 'a cat' }) },
    { method: 'POST', path: '/v1/images/edits', ...json({ model: 'painter', prompt: 'a hat', images: [{ image_url: `data:image/png;base64,${Buffer.from(PNG).toString('base64')}` }] }) },
    { method: 'POST', path: '/v1/responses', ...json({ model: 'chat-a', input: 'hi' }) },
    { method: 'GET', path: `/v1/responses/${stored.id}` },
    { method: 'GET', path: `/v1/responses/${stored.id}/input_items` },
    { method: 'POST', path: '/v1/audio/transcriptions', ...upload },
    { method: 'POST', path: '/v1/audio/translations', ...upload },
    { method: 'GET', path: '/health/details' },
    // Deleting last: the rows above still find the stored response.
    { method: 'DELETE', path: `/v1/responses/${stored.id}` },
  ]
  publicRows = [
    { method: 'GET', path: '/health' },
    { method: 'GET', path: '/ready' },
    { method: 'GET', path: '/docs' },
    { method: 'GET', path: '/openapi.json' },
    { method: 'GET', path: '/docs/assets/swagger-ui.css' },
    { method: 'GET', path: new URL(image.data[0]!.url).pathname },
  ]
})

afterAll(() => server.stop())

/** Hosts that move the path Bun puts in `request.url` (`http://x/h?/v1/...` has the path `/h`), or are no host at all. */
const HOSTILE_HOSTS = ['x/h?', 'x/h#', 'x/health?', 'x/docs?', 'x?', 'x#', 'x/', 'a@b', 'x\\y', 'x%2F', 'x:80/h?']

describe('API key on every route', () => {
  test('each protected route: no key → 401, a wrong key → 401, the key → 2xx', async () => {
    const seen: Record<string, number[]> = {}
    const expected: Record<string, number[]> = {}
    // Sequential, so the DELETE row runs last.
    for (const row of protectedRows) {
      const host = `127.0.0.1:${port}`
      const none = await send(row, host)
      const wrong = await send(row, host, { authorization: 'Bearer not-it' })
      const right = await send(row, host, { authorization: `Bearer ${KEY}` })
      seen[label(row)] = [none.status, wrong.status, right.status >= 200 && right.status < 300 ? 200 : right.status]
      expected[label(row)] = [401, 401, 200]
      if (none.status === 401) expect(JSON.parse(none.body).error.type).toBe('authentication_error')
    }
    expect(seen).toEqual(expected)
  })

  test('each protected route with a hostile Host and no key → 400 invalid_host, never served', async () => {
    const seen: Record<string, Record<string, string>> = {}
    const expected: Record<string, Record<string, string>> = {}
    for (const row of protectedRows.filter((r) => r.method !== 'DELETE')) {
      seen[label(row)] = {}
      expected[label(row)] = {}
      for (const host of HOSTILE_HOSTS) {
        const response = await send(row, host)
        // Bun itself refuses some Hosts with a bare 400 before our code runs; either way: 400, not served.
        const code = response.body ? errorCode(response.body) : 'invalid_host'
        seen[label(row)]![host] = `${response.status} ${code}`
        expected[label(row)]![host] = '400 invalid_host'
      }
    }
    expect(seen).toEqual(expected)
  })

  test('the public paths: /health, the docs, image links; 200 without a key, 400 with a hostile Host', async () => {
    for (const row of publicRows) {
      expect({ row: label(row), status: (await send(row, `127.0.0.1:${port}`)).status }).toEqual({ row: label(row), status: 200 })
      expect({ row: label(row), status: (await send(row, 'x/h?')).status }).toEqual({ row: label(row), status: 400 })
    }
  })

  test('anything not on the public list needs the key: unknown paths, odd spellings, non-preflight OPTIONS', async () => {
    const host = `127.0.0.1:${port}`
    for (const path of ['/v1/nope', '/nope', '//v1/models', '/v1/../v1/models', '/HEALTH', '/health/', '/docs/assets/../../v1/models', '/v1/images/files/a/b']) {
      expect({ path, status: (await send({ method: 'GET', path }, host)).status }).toEqual({ path, status: 401 })
    }
    expect((await send({ method: 'OPTIONS', path: '/v1/models' }, host)).status).toBe(401)
    expect((await send({ method: 'POST', path: '/health' }, host)).status).toBe(401)
  })

  test('a valid short Host reaches the route it names (the router and the check read the same path)', async () => {
    for (const host of ['a', 'ab', 'abc', 'a:1', `a:${port}`]) {
      const response = await send({ method: 'GET', path: '/v1/models' }, host, { authorization: `Bearer ${KEY}` })
      expect({ host, status: response.status, object: JSON.parse(response.body).object }).toEqual({ host, status: 200, object: 'list' })
      expect({ host, status: (await send({ method: 'GET', path: '/v1/models' }, host)).status }).toEqual({ host, status: 401 })
    }
  })
})

describe('/health', () => {
  test('public /health is liveness and load counts only; /health/details (with the key) has the sections', async () => {
    server.setHealthDetail('cluster', () => ({ workers: [{ id: 'w1', url: 'http://10.0.0.2:9000', models: ['secret-model'] }] }))
    try {
      const open = await send({ method: 'GET', path: '/health' }, `127.0.0.1:${port}`)
      const body = JSON.parse(open.body)
      expect(Object.keys(body).sort()).toEqual(['model_states', 'models', 'requests', 'status', 'uptime_seconds'])
      expect(open.body).not.toContain('10.0.0.2')
      expect((await send({ method: 'GET', path: '/health/details' }, `127.0.0.1:${port}`)).status).toBe(401)
      const details = await send({ method: 'GET', path: '/health/details' }, `127.0.0.1:${port}`, { 'x-api-key': KEY })
      expect(JSON.parse(details.body)).toMatchObject({ status: 'ok', cluster: { workers: [{ id: 'w1' }] } })
    } finally {
      server.setHealthDetail('cluster', null)
    }
  })
})
