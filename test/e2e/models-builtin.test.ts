import { linkSnapshot, repoCacheDir } from '@cy/hub'
import { startApp, type RunningApp } from '@cy/server'
import Ajv from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { FAKE_HUB_COMMIT, FakeHub, useFakeHub } from '../support/fake-hub.ts'
import { readUntil } from '../support/server-process.ts'

// The catalog's models are served by the echo fixture adapter here (fast, no engine); the real llama.cpp
// path is test/adapter-llama/llama-catalog.test.ts. The hub is the network-boundary test double.
const ECHO_FIXTURE = resolve(import.meta.dir, '../fixtures/adapter-echo')
const KEY = 'catalog-key'
const echoFile = (prefix: string) => new TextEncoder().encode(`ECHO v1\nprefix: ${prefix} \n`)
/** Bytes an echo model can carry after its header: a larger file, so a download has several chunks. */
const padded = (prefix: string, size: number) => {
  const head = echoFile(prefix)
  const bytes = new Uint8Array(size).fill(0x23)
  bytes.set(head)
  return bytes
}

const hub = new FakeHub()
let dir = ''
let app: RunningApp
const logs: string[] = []
let restoreEnv = () => {}
const held = Promise.withResolvers<void>()

const catalogYaml = (wrongSha: string) => `
default: echo-a
models:
  - { id: echo-a, hf: org/echo-a, files: { model: a.echo }, capabilities: [chat], adapter: echo, description: served after a download, license: mit }
  - { id: echo-held, hf: org/echo-held, files: { model: held.echo }, size: 300000, capabilities: [chat], adapter: echo, description: held midway, license: mit }
  - { id: echo-cut, hf: org/echo-cut, files: { model: cut.echo }, capabilities: [chat], adapter: echo, description: cut off once, license: mit }
  - { id: echo-bad, hf: org/echo-bad, files: { model: bad.echo }, capabilities: [chat], adapter: echo, description: corrupt in transit, license: mit }
  - { id: echo-pinned, hf: org/echo-pinned, files: { model: p.echo }, sha256: { p.echo: "${wrongSha}" }, capabilities: [chat], adapter: echo, description: the catalog pins another hash, license: mit }
  - { id: echo-cancel, hf: org/echo-cancel, files: { model: x.echo }, capabilities: [chat], adapter: echo, description: cancelled midway, license: mit }
  - { id: echo-cached, hf: other/echo-cached, files: { model: c.echo }, capabilities: [chat], adapter: echo, description: put there by another tool, license: mit }
`

const api = (path: string, init: RequestInit = {}) => fetch(`${app.url}${path}`, { ...init, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...init.headers } })
const chat = (model: string) => api('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) })

let spec: { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> }
const ajv = new Ajv({ strict: false, allErrors: true })
// TypeBox marks integers with a format of its own; the type already says it.
ajv.addFormat('integer', true)
/** Checks a body against the schema this server publishes for the route in /openapi.json. */
function matchesPublished(method: string, path: string, status: number, body: unknown): void {
  const schema = spec.paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema
  expect(schema).toBeDefined()
  const validate = ajv.compile(schema as object)
  if (!validate(body)) throw new Error(`${method} ${path} ${status} does not match its published schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`)
}

/** The SSE events of a response, as [event, data] pairs. */
async function events(response: Response): Promise<Array<[string, any]>> {
  const text = await response.text()
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const event = /^event: (.+)$/m.exec(frame)?.[1] ?? 'message'
      return [event, JSON.parse(/^data: (.+)$/m.exec(frame)![1]!)]
    })
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-builtin-'))
  await mkdir(join(dir, 'models'))
  restoreEnv = useFakeHub(hub, dir)
  hub.host('org/echo-a', 'a.echo', { bytes: padded('A:', 200_000) })
  hub.host('org/echo-held', 'held.echo', { bytes: padded('H:', 300_000), holdAt: 100_000, release: held.promise })
  hub.host('org/echo-cut', 'cut.echo', { bytes: padded('C:', 150_000), cutAt: 60_000 })
  hub.host('org/echo-cancel', 'x.echo', { bytes: padded('X:', 120_000), holdAt: 50_000, release: new Promise(() => {}) })
  hub.host('org/echo-bad', 'bad.echo', { bytes: echoFile('B:'), corrupt: echoFile('X:') })
  hub.host('org/echo-pinned', 'p.echo', { bytes: echoFile('P:') })
  // What another tool (huggingface_hub) left in the cache: a blob, refs/main and the snapshot link.
  const cachedDir = repoCacheDir('other/echo-cached', process.env.HF_HUB_CACHE)
  await mkdir(join(cachedDir, 'blobs'), { recursive: true })
  await writeFile(join(cachedDir, 'blobs', 'etag-from-another-tool'), echoFile('K:'))
  await linkSnapshot('other/echo-cached', 'main', FAKE_HUB_COMMIT, 'c.echo', 'etag-from-another-tool', process.env.HF_HUB_CACHE)
  await writeFile(join(dir, 'catalog.yaml'), catalogYaml('0'.repeat(64)))
  app = await startApp(
    { adapterPaths: [ECHO_FIXTURE], quiet: true, port: 0, modelsDir: join(dir, 'models'), responsesDb: ':memory:', catalogPath: join(dir, 'catalog.yaml'), apiKey: KEY, logLevel: 'silent' },
    (line) => logs.push(line),
  )
  spec = await (await fetch(`${app.url}/openapi.json`)).json()
})

afterAll(async () => {
  held.resolve()
  await app?.stop()
  hub.stop()
  restoreEnv()
  await rm(dir, { recursive: true, force: true })
})

describe('GET /models/builtin', () => {
  test('lists the catalog with each state, behind the API key, in the published shape', async () => {
    expect((await fetch(`${app.url}/models/builtin`)).status).toBe(401)
    const response = await api('/models/builtin')
    expect(response.status).toBe(200)
    const body = await response.json()
    matchesPublished('get', '/models/builtin', 200, body)
    const states = Object.fromEntries(body.data.map((entry: any) => [entry.id, entry.state]))
    expect(states['echo-a']).toBe('not_downloaded')
    // Found in the existing cache folder, without a download.
    expect(states['echo-cached']).toBe('downloaded')
    expect(hub.requests.filter((request) => request.path.includes('echo-cached'))).toEqual([])
    const a = body.data.find((entry: any) => entry.id === 'echo-a')
    expect(a).toMatchObject({ hf: 'org/echo-a', revision: 'main', files: ['a.echo'], aliases: ['org/echo-a'], adapter: 'echo', license: 'mit', size_bytes: null })
  })

  test('an unknown id is seed 002\'s model_not_found, 404', async () => {
    for (const [method, path] of [['GET', '/models/builtin/xxx'], ['POST', '/models/builtin/xxx/download'], ['DELETE', '/models/builtin/xxx']] as const) {
      const response = await api(path, { method })
      expect(response.status).toBe(404)
      expect(await response.json()).toEqual({ error: { message: 'Model xxx not found in builtin models', type: 'invalid_request_error', param: 'model_id', code: 'model_not_found' } })
    }
  })
})

describe('a catalog model before and after its download', () => {
  test('model_not_downloaded (seed 002, 404) by short id and by Hugging Face id; then SSE progress, done, and served under both', async () => {
    for (const name of ['echo-a', 'org/echo-a']) {
      const refused = await chat(name)
      expect(refused.status).toBe(404)
      expect(await refused.json()).toEqual({ error: { message: `Model ${name} not downloaded. Please download it first.`, type: 'model_not_found', param: 'model', code: 'model_not_downloaded' } })
    }
    const response = await api('/models/builtin/echo-a/download?stream=true', { method: 'POST' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith('text/event-stream')
    const seen = await events(response)
    const progress = seen.filter(([event]) => event === 'progress').map(([, data]) => data)
    expect(progress.length).toBeGreaterThan(0)
    expect(progress.at(-1)).toEqual({ id: 'echo-a', state: 'downloading', done_bytes: 200_000, total_bytes: 200_000 })
    const [last, done] = seen.at(-1)!
    expect(last).toBe('done')
    expect(done.state).toBe('downloaded')
    matchesPublished('post', '/models/builtin/{model_id}/download', 200, done)
    expect(done.paths).toEqual([join(repoCacheDir('org/echo-a', process.env.HF_HUB_CACHE), 'snapshots', FAKE_HUB_COMMIT, 'a.echo')])

    for (const name of ['echo-a', 'org/echo-a']) {
      const answered = await chat(name)
      expect(answered.status).toBe(200)
      expect((await answered.json()).choices[0].message.content).toBe('A: hi')
    }
    const loaded = await (await api('/models/builtin/echo-a')).json()
    expect(loaded.state).toBe('loaded')
  })

  test('/v1/models lists the short id once, with the Hugging Face id as its alias; the HF id retrieves it too', async () => {
    const list = await (await api('/v1/models')).json()
    const ids = list.data.map((model: any) => model.id)
    expect(ids).toContain('echo-a')
    expect(ids).not.toContain('org/echo-a')
    expect(list.data.find((model: any) => model.id === 'echo-a').cy.aliases).toEqual(['org/echo-a'])
    matchesPublished('get', '/v1/models', 200, list)
    const byHf = await (await api('/v1/models/org%2Fecho-a')).json()
    expect(byHf.cy.alias_of).toBe('echo-a')
  })

  test('a model already in another tool\'s cache folder is served at start without a download', async () => {
    const answered = await chat('other/echo-cached')
    expect(answered.status).toBe(200)
    expect((await answered.json()).choices[0].message.content).toBe('K: hi')
    expect(hub.requests.filter((request) => request.path.includes('echo-cached'))).toEqual([])
  })
})

describe('downloads', () => {
  test('two callers share one download and its progress; the state shows bytes done while it runs', async () => {
    const first = await api('/models/builtin/echo-held/download?stream=true', { method: 'POST' })
    // The fake hub holds the body at 100 000 bytes: read the stream until its progress says so.
    const reader = first.body!.getReader()
    let text = await readUntil(reader, (sofar) => /"done_bytes":100000\b/.test(sofar))
    const during = await (await api('/models/builtin/echo-held')).json()
    expect(during.state).toBe('downloading')
    expect(during.progress).toEqual({ done_bytes: 100_000, total_bytes: 300_000 })
    matchesPublished('get', '/models/builtin/{model_id}', 200, during)
    const second = api('/models/builtin/echo-held/download', { method: 'POST' })
    held.resolve()
    text += await readUntil(reader, () => false)
    expect(text).toContain('event: done')
    expect(text).toContain('"done_bytes":300000,"total_bytes":300000')
    const plain = await second
    expect(plain.status).toBe(200)
    expect((await plain.json()).state).toBe('downloaded')
    expect(hub.gets().filter((request) => request.path.includes('echo-held'))).toHaveLength(1)
  })

  test('a download cut off midway is resumed with Range', async () => {
    const response = await api('/models/builtin/echo-cut/download', { method: 'POST' })
    expect(response.status).toBe(200)
    expect((await response.json()).state).toBe('downloaded')
    const ranges = hub.gets().filter((request) => request.path.includes('echo-cut')).map((request) => request.range)
    expect(ranges).toEqual([null, 'bytes=60000-'])
    expect((await (await chat('echo-cut')).json()).choices[0].message.content).toBe('C: hi')
  })

  test('a corrupt download is refused by its checksum: an SSE error event, still not downloaded', async () => {
    const seen = await events(await api('/models/builtin/echo-bad/download?stream=true', { method: 'POST' }))
    const [event, data] = seen.at(-1)!
    expect(event).toBe('error')
    expect(data.error.code).toBe('download_failed')
    expect(data.error.message).toContain('sha256')
    const entry = await (await api('/models/builtin/echo-bad')).json()
    expect(entry.state).toBe('not_downloaded')
    expect(entry.error).toContain('sha256')
    expect((await chat('echo-bad')).status).toBe(404)
  })

  test('a file that does not match the sha256 the catalog pins is refused and deleted (502 without stream)', async () => {
    const response = await api('/models/builtin/echo-pinned/download', { method: 'POST' })
    expect(response.status).toBe(502)
    const body = await response.json()
    expect(body.error.message).toContain('the catalog pins')
    matchesPublished('post', '/models/builtin/{model_id}/download', 502, body)
    const snapshot = join(repoCacheDir('org/echo-pinned', process.env.HF_HUB_CACHE), 'snapshots', FAKE_HUB_COMMIT, 'p.echo')
    expect(await stat(snapshot).catch(() => 'gone')).toBe('gone')
  })
})

describe('DELETE /models/builtin/{id}', () => {
  test('refuses (409) while downloading; DELETE .../download cancels it, and the next download resumes the partial', async () => {
    const stream = await api('/models/builtin/echo-cancel/download?stream=true', { method: 'POST' })
    const reader = stream.body!.getReader()
    let text = await readUntil(reader, (sofar) => /"done_bytes":50000\b/.test(sofar))
    const refused = await api('/models/builtin/echo-cancel', { method: 'DELETE' })
    expect(refused.status).toBe(409)
    expect((await refused.json()).error.code).toBe('model_downloading')
    const cancelled = await api('/models/builtin/echo-cancel/download', { method: 'DELETE' })
    expect(cancelled.status).toBe(200)
    expect(await cancelled.json()).toMatchObject({ state: 'not_downloaded', error: 'the download was cancelled' })
    text += await readUntil(reader, () => false)
    expect(text).toContain('event: error')
    expect(text).toContain('"code":"download_cancelled"')
    hub.files.get('/org/echo-cancel/resolve/main/x.echo')!.holdAt = undefined
    const resumed = await api('/models/builtin/echo-cancel/download', { method: 'POST' })
    expect((await resumed.json()).state).toBe('downloaded')
    expect(hub.gets().filter((request) => request.path.includes('echo-cancel')).map((request) => request.range)).toEqual([null, 'bytes=50000-'])
  })


  test('refuses (409) while loaded; after an unload deletes the files, and the model is not downloaded again', async () => {
    expect((await chat('echo-cut')).status).toBe(200)
    const refused = await api('/models/builtin/echo-cut', { method: 'DELETE' })
    expect(refused.status).toBe(409)
    const body = await refused.json()
    expect(body.error.code).toBe('model_loaded')
    matchesPublished('delete', '/models/builtin/{model_id}', 409, body)
    expect((await api('/v1/models/echo-cut/unload', { method: 'POST' })).status).toBe(200)
    const deleted = await api('/models/builtin/echo-cut', { method: 'DELETE' })
    expect(deleted.status).toBe(200)
    const entry = await deleted.json()
    expect(entry.state).toBe('not_downloaded')
    matchesPublished('delete', '/models/builtin/{model_id}', 200, entry)
    const blobs = join(repoCacheDir('org/echo-cut', process.env.HF_HUB_CACHE), 'blobs')
    expect(await readdir(blobs)).toEqual([])
    const refusedChat = await chat('echo-cut')
    expect(refusedChat.status).toBe(404)
    expect((await refusedChat.json()).error.code).toBe('model_not_downloaded')
  })
})
