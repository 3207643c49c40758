import { startApp, type RunningApp } from '@cy/server'
import type { ModelState } from '@cy/core'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

// The real server app with the echo fixture adapter (a Worker-backed engine with `loadMs`, `stepMs`).
const ECHO_FIXTURE = resolve(import.meta.dir, '../fixtures/adapter-echo')
const KEY = 'lifecycle-key'
const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }

let workdir: string
let app: RunningApp | undefined

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'cy-lifecycle-'))
  await mkdir(join(workdir, 'empty'))
  for (const name of ['a', 'b', 'c']) await writeFile(join(workdir, `${name}.echo`), `ECHO v1\nprefix: ${name}: \n`)
})
afterEach(async () => {
  await app?.stop()
  app = undefined
})
afterAll(() => rm(workdir, { recursive: true, force: true }))

type ModelEntry = { id: string; cy: { state: ModelState; reason?: string; loaded_at: number | null; last_used_at: number | null; size_bytes: number | null; adapter: string | null; progress?: { stage: string } } }

async function start(models: string[], flags: Partial<Parameters<typeof startApp>[0]> = {}): Promise<RunningApp> {
  const config = join(workdir, `cy-${Math.random().toString(36).slice(2)}.yaml`)
  await writeFile(config, ['models:', ...models].join('\n'))
  app = await startApp(
    { configPath: config, adapterPaths: [ECHO_FIXTURE], quiet: true, port: 0, host: '127.0.0.1', modelsDir: join(workdir, 'empty'), responsesDb: ':memory:', apiKey: KEY, ...flags },
    () => {},
  )
  return app
}

const model = (name: string, extra = '') => `  - { name: ${name}, adapter: echo, path: ${name.replace(/\d+$/, '')}.echo${extra ? `, ${extra}` : ''} }`

async function info(name: string): Promise<ModelEntry> {
  return (await (await fetch(`${app!.url}/v1/models/${name}`, { headers: auth })).json()) as ModelEntry
}

function chat(name: string, content = 'hi'): Promise<Response> {
  return fetch(`${app!.url}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ model: name, messages: [{ role: 'user', content }] }) })
}

async function reply(name: string, content = 'hi'): Promise<string> {
  const response = await chat(name, content)
  expect(response.status).toBe(200)
  return ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content
}

/** Resolves when the model reaches `state` (the registry's own event, no polling). */
function reaches(name: string, state: ModelState): Promise<void> {
  const registry = app!.server.registry
  if (registry.status(name)?.state === state) return Promise.resolve()
  return new Promise((done) => {
    const off = registry.onStatus((changed, status) => {
      if (changed === name && status.state === state) {
        off()
        done()
      }
    })
  })
}

describe('model lifecycle in the server app', () => {
  test('the port opens while a model loads; a request during loading waits and succeeds; /ready turns 200 once it is ready', async () => {
    await start([model('a', 'options: { loadMs: 400 }')])
    const loading = await info('a')
    expect(loading.cy.state).toBe('loading')
    expect(loading.cy.progress?.stage).toBeString()
    const notReady = await fetch(`${app!.url}/ready`)
    expect(notReady.status).toBe(503)
    expect(await notReady.json()).toMatchObject({ status: 'not_ready', model_states: { loading: 1 } })
    const health = (await (await fetch(`${app!.url}/health`)).json()) as { model_states: Record<string, number> }
    expect(health.model_states.loading).toBe(1)
    expect(await reply('a', 'waited')).toBe('a: waited')
    const ready = await fetch(`${app!.url}/ready`)
    expect(ready.status).toBe(200)
    const loaded = await info('a')
    expect(loaded.cy).toMatchObject({ state: 'ready', adapter: 'echo', size_bytes: 20 })
    expect(loaded.cy.loaded_at).toBeGreaterThan(0)
    expect(loaded.cy.last_used_at).toBeGreaterThanOrEqual(loaded.cy.loaded_at!)
  })

  test('a lazy model is not loaded until its first request, which loads it; /ready does not wait for it', async () => {
    await start([model('a', 'load: lazy')])
    expect((await info('a')).cy.state).toBe('unloaded')
    expect((await fetch(`${app!.url}/ready`)).status).toBe(200)
    expect(await reply('a', 'first')).toBe('a: first')
    expect((await info('a')).cy.state).toBe('ready')
  })

  test('keepAlive unloads an idle model; its next request loads it again', async () => {
    await start([model('a', 'keepAlive: 150ms')])
    await reaches('a', 'ready')
    expect(await reply('a')).toBe('a: hi')
    await reaches('a', 'unloaded')
    expect(await reply('a', 'again')).toBe('a: again')
  })

  test('a budget of two models with three requested: the least recently used idle one is unloaded', async () => {
    await start([model('a', 'load: lazy'), model('b', 'load: lazy'), model('c', 'load: lazy')], { maxLoadedModels: 2 })
    expect(await reply('a')).toBe('a: hi')
    expect(await reply('b')).toBe('b: hi')
    expect(await reply('a', 'a again')).toBe('a: a again')
    // b is now the least recently used.
    expect(await reply('c')).toBe('c: hi')
    expect([(await info('a')).cy.state, (await info('b')).cy.state, (await info('c')).cy.state]).toEqual(['ready', 'unloaded', 'ready'])
  })

  test('load and unload through the API (behind the key); an unloaded eager model answers 503 with Retry-After', async () => {
    await start([model('a')])
    await reaches('a', 'ready')
    expect((await fetch(`${app!.url}/v1/models/a/unload`, { method: 'POST' })).status).toBe(401)
    const unloaded = await fetch(`${app!.url}/v1/models/a/unload`, { method: 'POST', headers: auth })
    expect(unloaded.status).toBe(200)
    expect(((await unloaded.json()) as ModelEntry).cy.state).toBe('unloaded')
    const refused = await chat('a')
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBeTruthy()
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('model_not_loaded')
    expect((await fetch(`${app!.url}/ready`)).status).toBe(503)
    const loaded = await fetch(`${app!.url}/v1/models/a/load`, { method: 'POST', headers: auth })
    expect(loaded.status).toBe(200)
    expect(((await loaded.json()) as ModelEntry).cy.state).toBe('ready')
    expect(await reply('a')).toBe('a: hi')
    expect((await fetch(`${app!.url}/v1/models/nope/load`, { method: 'POST', headers: auth })).status).toBe(404)
  })

  test('a model that fails to load is failed with the reason; its requests get 503; the others serve', async () => {
    await start([model('a'), '  - { name: broken, adapter: echo, path: missing.echo }'])
    await reaches('broken', 'failed')
    const broken = await info('broken')
    expect(broken.cy.reason).toContain('cannot read')
    const refused = await chat('broken')
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBeTruthy()
    expect(await reply('a')).toBe('a: hi')
    const details = (await (await fetch(`${app!.url}/health/details`, { headers: auth })).json()) as { model_states: Record<string, number>; model_details: Array<{ id: string; state: string }> }
    expect(details.model_states).toMatchObject({ ready: 1, failed: 1 })
    expect(details.model_details.map(({ id, state }) => [id, state])).toEqual([['a', 'ready'], ['broken', 'failed']])
  })
})

describe('load progress (stderr not a terminal: plain lines; a terminal draws bars, which a test here cannot see)', () => {
  test('each stage of a load is a line with the time since it was queued, and the state carries the stage and the percent the loader reports', async () => {
    const lines: string[] = []
    const config = join(workdir, 'progress.yaml')
    await writeFile(config, ['models:', model('a', 'options: { loadMs: 400 }')].join('\n'))
    app = await startApp(
      { configPath: config, adapterPaths: [ECHO_FIXTURE], quiet: true, port: 0, host: '127.0.0.1', modelsDir: join(workdir, 'empty'), responsesDb: ':memory:', apiKey: KEY },
      (line) => lines.push(line),
    )
    const during = await info('a')
    expect(during.cy.state).toBe('loading')
    expect(['queued', 'loading']).toContain(during.cy.progress!.stage)
    await app.loads
    expect(lines.filter((line) => line.startsWith("model 'a'")).map((line) => line.replace(/\d+ ms/, 'N ms'))).toEqual([
      "model 'a' queued (N ms)",
      "model 'a' loading (N ms)",
      "model 'a' warming up 50% (N ms)",
      "model 'a' ready (N ms)",
    ])
  })
})
