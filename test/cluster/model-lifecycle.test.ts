import type { ModelState } from '@cy/core'
import { startApp, type RunningApp } from '@cy/server'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { clusterPort } from '../support/cluster-port.ts'

// The real server app on both sides, the echo fixture adapter on the worker (`loadMs` delays its load).
const ECHO_FIXTURE = resolve(import.meta.dir, '../fixtures/adapter-echo')

let workdir: string
const running: RunningApp[] = []

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'cy-cluster-lifecycle-'))
  await mkdir(join(workdir, 'empty'))
  await writeFile(join(workdir, 'a.echo'), 'ECHO v1\nprefix: a: \n')
})
afterAll(async () => {
  for (const app of running.reverse()) await app.stop()
  await rm(workdir, { recursive: true, force: true })
})

async function app(cluster: NonNullable<Parameters<typeof startApp>[0]['cluster']>, models: string[] = []): Promise<RunningApp> {
  const config = join(workdir, `cy-${Math.random().toString(36).slice(2)}.yaml`)
  await writeFile(config, models.length ? ['models:', ...models].join('\n') : 'models: []')
  const started = await startApp(
    { configPath: config, adapterPaths: [ECHO_FIXTURE], quiet: true, port: cluster.masterPort, host: '127.0.0.1', modelsDir: join(workdir, 'empty'), responsesDb: ':memory:', logLevel: 'warn', cluster },
    () => {},
  )
  running.push(started)
  return started
}

const roles = (port: number, workerId = 'w1') => ({
  master: { mode: 'master' as const, masterHost: '127.0.0.1', masterPort: port, workerHost: '127.0.0.1', workerPort: 0, allowReplicas: false },
  worker: { mode: 'worker' as const, masterHost: '127.0.0.1', masterPort: port, workerId, workerHost: '127.0.0.1', workerPort: 0, allowReplicas: false },
})

/** Resolves when `name` reaches `state` in the master's registry (its own event, no polling). */
function reaches(master: RunningApp, name: string, state: ModelState): Promise<void> {
  const registry = master.server.registry
  if (registry.status(name)?.state === state) return Promise.resolve()
  return new Promise((done) => {
    const off = registry.onStatus((changed, status) => {
      if (changed !== name || status.state !== state) return
      off()
      done()
    })
  })
}

async function state(url: string, name: string): Promise<{ state: ModelState; progress?: { stage: string } }> {
  const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string; cy: { state: ModelState; progress?: { stage: string } } }> }
  return models.data.find((model) => model.id === name)!.cy
}

function chat(url: string, model: string, content: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content }] }) })
}

describe('a worker’s models at the master follow their lifecycle', () => {
  test('a worker joins before its models load: the master shows one loading, a request waits for it, then it is ready', async () => {
    const port = clusterPort()
    const master = await app(roles(port).master)
    // Joining includes registering: once the worker is up, the master knows the model, still loading.
    const worker = await app(roles(port).worker, ['  - { name: slow, adapter: echo, path: a.echo, options: { loadMs: 1500 } }'])
    expect((await state(master.url, 'slow')).state).toBe('loading')
    // Through the master while it loads: the request waits (within the queue timeout) and gets the answer.
    const response = await chat(master.url, 'slow', 'hello')
    expect(response.status).toBe(200)
    expect(((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('a: hello')
    expect((await state(master.url, 'slow')).state).toBe('ready')
    await worker.loads
  }, 30_000)

  test('a lazy model on a worker shows unloaded at the master; a request there loads it on the worker and succeeds; an unload reaches the master', async () => {
    const port = clusterPort()
    const master = await app(roles(port).master)
    const worker = await app(roles(port, 'w2').worker, ['  - { name: later, adapter: echo, path: a.echo, load: lazy, options: { loadMs: 300 } }'])
    await worker.loads
    expect((await state(master.url, 'later')).state).toBe('unloaded')
    const response = await chat(master.url, 'later', 'wake up')
    expect(response.status).toBe(200)
    expect(((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('a: wake up')
    expect(worker.server.registry.status('later')?.state).toBe('ready')
    const unloaded = reaches(master, 'later', 'unloaded')
    await worker.models.unload('later')
    await unloaded
    expect((await state(master.url, 'later')).state).toBe('unloaded')
  }, 30_000)
})
