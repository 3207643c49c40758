import { repoCacheDir } from '@cy/hub'
import { banner, checkCatalog, loadCatalog, parseCliOptions, pullHint, SHIPPED_CATALOG } from '@cy/server'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { tinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { FAKE_HUB_COMMIT, FakeHub } from '../support/fake-hub.ts'
import { startServerProcess } from '../support/server-process.ts'

const MAIN = resolve(import.meta.dir, '../../apps/server/src/main.ts')

describe('the shipped catalog', () => {
  test('loads and validates, with the defaults the issue names', async () => {
    const catalog = await loadCatalog(SHIPPED_CATALOG)
    const byId = new Map(catalog.models.map((entry) => [entry.id, entry]))
    expect(catalog.default).toBe('qwen2.5-0.5b-instruct')
    expect(byId.get('qwen2.5-0.5b-instruct')).toMatchObject({ hf: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF', files: { model: 'qwen2.5-0.5b-instruct-q4_k_m.gguf' }, adapter: 'llama' })
    expect(byId.get('whisper-base')).toMatchObject({ hf: 'ggerganov/whisper.cpp', files: { model: 'ggml-base.bin' }, adapter: 'whisper' })
    expect(byId.get('whisper-small')?.files.model).toBe('ggml-small.bin')
    expect(byId.get('smolvlm-256m-instruct')?.files.mmproj).toStartWith('mmproj-')
    expect(catalog.models.some((entry) => entry.capabilities.includes('embedding'))).toBe(true)
  })

  test('a bad entry is an error naming the entry and the field', () => {
    const entry = { id: 'x', hf: 'a/b', files: { model: 'm.gguf' }, capabilities: ['chat'], adapter: 'llama', description: 'd', license: 'mit' }
    expect(() => checkCatalog({ models: [entry, { ...entry, id: 'y', hf: 'not a repo' }] }, 'c.yaml')).toThrow(/models\[1\] \(y\)\.hf/)
    expect(() => checkCatalog({ models: [{ ...entry, capabilities: ['painting'] }] }, 'c.yaml')).toThrow('models[0] (x).capabilities.0: expected one of chat, completion, embedding, asr, tts, image, got "painting"')
    expect(() => checkCatalog({ models: [{ ...entry, sha256: { 'other.gguf': 'a'.repeat(64) } }] }, 'c.yaml')).toThrow(/models\[0\] \(x\)\.sha256 names 'other\.gguf'/)
    expect(() => checkCatalog({ models: [entry, entry] }, 'c.yaml')).toThrow(/repeats the id 'x'/)
    expect(() => checkCatalog({ default: 'z', models: [entry] }, 'c.yaml')).toThrow(/default 'z'/)
  })

  test('--catalog and --pull (repeatable) reach the app options; CY_CATALOG too', () => {
    expect(parseCliOptions(['--catalog', 'c.yaml', '--pull', 'a', '--pull', 'org/repo:Q8_0'], {})).toMatchObject({ catalogPath: 'c.yaml', pull: ['a', 'org/repo:Q8_0'] })
    expect(parseCliOptions([], { CY_CATALOG: 'e.yaml' })?.catalogPath).toBe('e.yaml')
  })
})

describe('the banner with no model served', () => {
  const facts = { url: 'http://127.0.0.1:8080', adapters: [], models: [], unclaimed: [], apiKey: false, host: '127.0.0.1' }
  test('prints the one command that fetches the default chat model, as the user started the server', () => {
    expect(pullHint('qwen2.5-0.5b-instruct', {})).toBe('bun run apps/server pull qwen2.5-0.5b-instruct')
    expect(pullHint('qwen2.5-0.5b-instruct', { npm_lifecycle_event: 'start' })).toBe('npm start -- pull qwen2.5-0.5b-instruct')
    expect(banner({ ...facts, pullHint: 'bun run apps/server pull qwen2.5-0.5b-instruct' })).toContain('get one   bun run apps/server pull qwen2.5-0.5b-instruct')
    expect(banner(facts)).not.toContain('get one')
  })
})

describe('bun run apps/server pull, against a fake hub', () => {
  const hub = new FakeHub()
  let dir = ''
  let env: Record<string, string> = {}
  const gguf = tinyLlama({ seed: 3 })
  const projector = new Uint8Array(4096).fill(7)

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cy-pull-'))
    await mkdir(join(dir, 'models'))
    env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: join(dir, 'hub'), CY_PULLED_MODELS: join(dir, 'pulled.json'), CY_CATALOG: join(dir, 'catalog.yaml') }
    await writeFile(
      env.CY_CATALOG!,
      [
        'default: tiny-chat',
        'models:',
        '  - { id: tiny-chat, hf: org/tiny-chat, files: { model: tiny.gguf }, capabilities: [chat], adapter: llama, description: tiny, license: mit }',
        '  - { id: tiny-two, hf: org/tiny-two, files: { model: two.gguf }, capabilities: [chat], adapter: llama, description: pulled on start, license: mit }',
      ].join('\n'),
    )
    hub.host('org/tiny-chat', 'tiny.gguf', { bytes: gguf })
    hub.host('org/tiny-two', 'two.gguf', { bytes: gguf })
    hub.host('org/adhoc-GGUF', 'adhoc-Q8_0.gguf', { bytes: tinyLlama({ seed: 5 }) })
    hub.host('org/adhoc-GGUF', 'adhoc-Q4_K_M.gguf', { bytes: gguf })
    hub.host('org/adhoc-GGUF', 'mmproj-adhoc-f16.gguf', { bytes: projector })
  })
  afterAll(async () => {
    hub.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const pull = async (...args: string[]) => {
    const child = Bun.spawn([process.execPath, MAIN, 'pull', ...args], { cwd: dir, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
    return { code, stderr }
  }

  test('the banner of an empty start names the pull command of the catalog default', async () => {
    const server = await startServerProcess(join(dir, 'models'), ['--models', join(dir, 'models'), '--responses-db', ':memory:'], env)
    try {
      expect(server.log()).toContain('get one   bun run apps/server pull tiny-chat')
    } finally {
      await server.stop()
    }
  })

  test('a catalog id downloads with plain progress lines (no TTY) and exits 0; an unknown one exits 2', async () => {
    const { code, stderr } = await pull('tiny-chat')
    expect(code).toBe(0)
    expect(stderr).toContain('pulling tiny-chat: 100%')
    const snapshot = join(repoCacheDir('org/tiny-chat', env.HF_HUB_CACHE), 'snapshots', FAKE_HUB_COMMIT, 'tiny.gguf')
    expect(Buffer.compare(await readFile(snapshot), gguf)).toBe(0)
    const unknown = await pull('no-such-model')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("'no-such-model' is neither a catalog id")
    const missing = await pull('org/none:Q4_K_M')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('not found on the hub')
  })

  test('org/repo:Q4_K_M picks that GGUF and the projector, records the pull, and the next start serves it under its id and the repo', async () => {
    const { code, stderr } = await pull('org/adhoc-GGUF:Q4_K_M')
    expect(code).toBe(0)
    expect(stderr).toContain("served as 'adhoc-q4_k_m'")
    const snapshots = join(repoCacheDir('org/adhoc-GGUF', env.HF_HUB_CACHE), 'snapshots', FAKE_HUB_COMMIT)
    expect((await stat(join(snapshots, 'adhoc-Q4_K_M.gguf'))).size).toBe(gguf.length)
    expect((await stat(join(snapshots, 'mmproj-adhoc-f16.gguf'))).size).toBe(projector.length)
    expect(await stat(join(snapshots, 'adhoc-Q8_0.gguf')).catch(() => 'not fetched')).toBe('not fetched')
    const recorded = JSON.parse(await readFile(env.CY_PULLED_MODELS!, 'utf8'))
    expect(recorded.models).toEqual([expect.objectContaining({ id: 'adhoc-q4_k_m', hf: 'org/adhoc-GGUF', files: { model: 'adhoc-Q4_K_M.gguf', mmproj: 'mmproj-adhoc-f16.gguf' }, adapter: 'llama' })])

    const server = await startServerProcess(join(dir, 'models'), ['--models', join(dir, 'models'), '--responses-db', ':memory:'], env)
    try {
      expect(server.log()).not.toContain('get one')
      const models = await (await fetch(`${server.url}/v1/models`)).json()
      const served = models.data.find((model: any) => model.id === 'adhoc-q4_k_m')
      expect(served.cy).toMatchObject({ adapter: 'llama', file: join(snapshots, 'adhoc-Q4_K_M.gguf'), aliases: ['org/adhoc-GGUF'] })
      expect(models.data.map((model: any) => model.id)).toContain('tiny-chat')
      const builtin = await (await fetch(`${server.url}/models/builtin`)).json()
      expect(builtin.data.find((entry: any) => entry.id === 'adhoc-q4_k_m').state).toBe('downloaded')
    } finally {
      await server.stop()
    }
  })

  test('--pull on start downloads before serving; a --pull the hub does not have stops the start (exit 1)', async () => {
    const server = await startServerProcess(join(dir, 'models'), ['--models', join(dir, 'models'), '--responses-db', ':memory:', '--pull', 'tiny-two'], env)
    try {
      expect(server.log()).toContain('pulling tiny-two: 100%')
      const model = await (await fetch(`${server.url}/v1/models/tiny-two`)).json()
      expect(model.cy.file).toBe(join(repoCacheDir('org/tiny-two', env.HF_HUB_CACHE), 'snapshots', FAKE_HUB_COMMIT, 'two.gguf'))
    } finally {
      await server.stop()
    }
    const child = Bun.spawn([process.execPath, MAIN, '--port', '0', '--models', join(dir, 'models'), '--pull', 'org/none:Q4_K_M'], { cwd: dir, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
    expect(code).toBe(1)
    expect(stderr).toContain('--pull org/none:Q4_K_M: org/none@main: not found on the hub')
  })
})
