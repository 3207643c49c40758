import { OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { publishedSchemas } from '../support/published-schema.ts'
import { startTestServer } from '../support/test-server.ts'

// A scripted completion model (a test double at the handler boundary) that holds each request until the
// test lets it go: the routes, the tenant limits and the dispatcher under test are the real ones.
const KEY = 'engine-key'
let server: Server
const started: string[] = []
const holds: Array<() => void> = []

beforeAll(async () => {
  server = await startTestServer({ apiKey: KEY, tenants: { small: { maxConcurrency: 1, maxQueue: 1 }, big: {} } }, (s) => {
    s.registerCompletion('held', async (request, out) => {
      started.push(typeof request.prompt === 'string' ? request.prompt : '')
      await new Promise<void>((resolve) => holds.push(resolve))
      out.push(OutputChunk.textDelta('ok'))
      out.push(OutputChunk.finish('stop'))
      out.end()
    })
  })
})
afterAll(() => server.stop())

const headers = { 'content-type': 'application/json', 'x-api-key': KEY }
const infer = (prompt: string, tenant?: string) =>
  fetch(`${server.url}/api/v1/inference`, { method: 'POST', headers, body: JSON.stringify({ modelId: 'held', prompt, ...(tenant ? { metadata: { tenant } } : {}) }) })
const details = async () => (await (await fetch(`${server.url}/api/v1/health/details`, { headers })).json()).components.coordinator.details
/** Waits for what the server reports to come true, asking it again after each answer. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await Bun.sleep(5)
}
const releaseAll = () => holds.splice(0).forEach((release) => release())

describe('auth on /api/v1', () => {
  const routes: Array<[string, string, unknown?]> = [
    ['GET', '/api/v1/health'],
    ['GET', '/api/v1/health/details'],
    ['GET', '/api/v1/models'],
    ['GET', '/api/v1/models/held'],
    ['POST', '/api/v1/inference', { modelId: 'held', prompt: 'p' }],
    ['POST', '/api/v1/inference/stream', { modelId: 'held', prompt: 'p' }],
    ['POST', '/api/v1/inference/streamWithMetadata', { modelId: 'held', prompt: 'p' }],
  ]
  for (const [method, path, body] of routes) {
    test(`${method} ${path} needs the key: 401 UNAUTHORIZED without it, or with a wrong one`, async () => {
      for (const auth of [{}, { 'x-api-key': 'wrong' }, { authorization: 'Bearer wrong' }] as Array<Record<string, string>>) {
        const response = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json', ...auth }, ...(body ? { body: JSON.stringify(body) } : {}) })
        expect(response.status).toBe(401)
        const json = await response.json()
        expect(json.error).toMatchObject({ code: 'UNAUTHORIZED', details: [{ type: 'invalid_api_key', field: null }] })
      }
      expect(started).toEqual([])
    })
  }

  test('the key as X-API-Key or as Bearer', async () => {
    for (const auth of [{ 'x-api-key': KEY }, { authorization: `Bearer ${KEY}` }] as Array<Record<string, string>>) {
      const response = await fetch(`${server.url}/api/v1/health`, { headers: auth })
      expect(response.status).toBe(200)
      expect((await response.json()).status).toBe('UP')
    }
  })

  test('the 401 matches the published schema', async () => {
    const schemas = await publishedSchemas(server.url)
    const response = await fetch(`${server.url}/api/v1/models`)
    schemas.check('get', '/api/v1/models', 401, await response.json())
  })
})

describe('per-tenant concurrency limit (tenants: { small: { maxConcurrency: 1, maxQueue: 1 } })', () => {
  test("a tenant's second request waits for its first; its third is RATE_LIMITED; other tenants run on", async () => {
    started.length = 0
    const first = infer('small-1', 'small')
    await until(async () => started.length === 1)
    const second = infer('small-2', 'small')
    await until(async () => (await details()).tenants.small.pendingTasks === 1)
    const third = await infer('small-3', 'small')
    expect(third.status).toBe(429)
    expect((await third.json()).error.code).toBe('RATE_LIMITED')
    // Another tenant (configured without a limit) and no tenant at all are not held up by small's limit.
    const big = infer('big-1', 'big')
    const none = infer('none-1')
    await until(async () => started.length === 3)
    expect(started.sort()).toEqual(['big-1', 'none-1', 'small-1'])
    releaseAll()
    for (const response of await Promise.all([first, big, none])) expect(response.status).toBe(200)
    await until(async () => started.length === 4)
    expect(started).toContain('small-2')
    releaseAll()
    expect((await second).status).toBe(200)
    expect((await details()).tenants.small).toEqual({ active: 0, pendingTasks: 0, maxConcurrency: 1 })
  })

  test('a tenant is a metrics label: a configured name, else other', async () => {
    const answers = [infer('m-1', 'big'), infer('m-2', 'made-up-tenant')]
    await until(async () => holds.length === 2)
    releaseAll()
    for (const response of await Promise.all(answers)) expect(response.status).toBe(200)
    const metrics = await (await fetch(`${server.url}/metrics`, { headers })).text()
    expect(metrics).toMatch(/cy_tenant_requests_total\{tenant="big",model="held",status="200"\} [1-9]/)
    expect(metrics).toMatch(/cy_tenant_requests_total\{tenant="other",model="held",status="200"\} 1/)
    expect(metrics).not.toContain('made-up-tenant')
  })
})
