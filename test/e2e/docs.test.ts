import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestServer } from '../support/test-server.ts'

let server: Server

beforeAll(async () => {
  server = await startTestServer({ apiKey: 'secret' })
})
afterAll(() => server.stop())

const ROUTES = [
  ['post', '/v1/chat/completions'],
  ['post', '/v1/completions'],
  ['post', '/v1/embeddings'],
  ['post', '/v1/audio/transcriptions'],
  ['post', '/v1/audio/translations'],
  ['post', '/v1/audio/speech'],
  ['get', '/v1/audio/voices'],
  ['post', '/v1/images/generations'],
  ['post', '/v1/images/edits'],
  ['get', '/v1/images/files/{file}'],
  ['get', '/v1/models'],
  ['get', '/v1/models/{model}'],
  ['get', '/health'],
] as const

describe('OpenAPI and Swagger UI', () => {
  test('/openapi.json documents every route with its request schema, without an API key', async () => {
    const response = await fetch(`${server.url}/openapi.json`)
    expect(response.status).toBe(200)
    const spec = (await response.json()) as { openapi: string; paths: Record<string, Record<string, any>> }
    expect(spec.openapi).toMatch(/^3\./)
    for (const [method, path] of ROUTES) expect(spec.paths[path]?.[method]).toBeDefined()
    const chat = spec.paths['/v1/chat/completions']!.post
    // `model` is optional (the seed's Lite mode: the default model); `messages` is not.
    expect(chat.requestBody.content['application/json'].schema.required).toEqual(['messages'])
    expect(chat.responses['200']).toBeDefined()
    expect(chat.responses['429']).toBeDefined()
    expect(spec.paths['/v1/audio/transcriptions']!.post.requestBody.content['multipart/form-data']).toBeDefined()
    // Edits take OpenAI's two bodies: a multipart upload and JSON with data-URL images.
    const edits = spec.paths['/v1/images/edits']!.post.requestBody.content
    expect(Object.keys(edits['multipart/form-data'].schema.properties)).toEqual(expect.arrayContaining(['image', 'mask', 'prompt', 'strength']))
    expect(Object.keys(edits['application/json'].schema.properties)).toEqual(expect.arrayContaining(['images', 'mask', 'prompt']))
    // The JSON routes validate their own bodies: their schemas reach the docs from the same route table.
    for (const [path, field] of [['/v1/completions', 'prompt'], ['/v1/embeddings', 'input'], ['/v1/audio/speech', 'voice'], ['/v1/images/generations', 'prompt'], ['/v1/responses', 'model']] as const) {
      const operation = spec.paths[path]!.post
      expect(Object.keys(operation.requestBody.content['application/json'].schema.properties)).toContain(field)
      expect(operation.responses['200']).toBeDefined()
      expect(operation.responses['400']).toBeDefined()
      expect(operation.summary).toBeString()
    }
  })

  test('/docs serves Swagger UI with its assets from this server (no CDN)', async () => {
    const page = await (await fetch(`${server.url}/docs`)).text()
    expect(page).toContain('/docs/assets/swagger-ui-bundle.js')
    expect(page).toContain('"url":"openapi.json"')
    const bundle = await fetch(`${server.url}/docs/assets/swagger-ui-bundle.js`)
    expect(bundle.status).toBe(200)
    expect((await bundle.text()).length).toBeGreaterThan(100_000)
    expect((await fetch(`${server.url}/docs/assets/swagger-ui.css`)).status).toBe(200)
    expect((await fetch(`${server.url}/docs/assets/..%2Fpackage.json`)).status).toBe(404)
  })

  test('CORS: a page on loopback gets its preflight answered and the allow-origin header', async () => {
    const preflight = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    })
    expect(preflight.status).toBeLessThan(300)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    const models = await fetch(`${server.url}/v1/models`, { headers: { origin: 'http://localhost:5173', authorization: 'Bearer secret' } })
    expect(models.status).toBe(200)
    expect(models.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    // Errors too, or the browser could not read them.
    const unauthorized = await fetch(`${server.url}/v1/models`, { headers: { origin: 'http://localhost:5173' } })
    expect(unauthorized.status).toBe(401)
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    // Non-browser clients get no CORS headers at all.
    expect((await fetch(`${server.url}/health`)).headers.get('access-control-allow-origin')).toBeNull()
  })

  test('CORS with an allow-list: other origins get no allow headers', async () => {
    const listed = await startTestServer({ cors: ['http://good.example'] })
    try {
      const preflight = (origin: string) =>
        fetch(`${listed.url}/v1/models`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } })
      expect((await preflight('http://good.example')).headers.get('access-control-allow-origin')).toBe('http://good.example')
      expect((await preflight('http://evil.example')).headers.get('access-control-allow-origin')).toBeNull()
      const response = await fetch(`${listed.url}/v1/models`, { headers: { origin: 'http://evil.example' } })
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
    } finally {
      await listed.stop()
    }
  })
})
