import {
  DownloadChecksumError,
  downloadFile,
  findCached,
  HubAuthError,
  HubNotFoundError,
  repoCacheDir,
} from '@cy/hub'
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FAKE_HUB_COMMIT, FakeHub } from '../support/fake-hub.ts'

const COMMIT = FAKE_HUB_COMMIT

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)

const hub = new FakeHub()
const caches: string[] = []
let cache = ''
const previous = process.env.HF_HUB_CACHE
beforeEach(async () => {
  cache = await mkdtemp(join(tmpdir(), 'cy-hub-'))
  caches.push(cache)
  process.env.HF_HUB_CACHE = cache
  hub.requests.length = 0
})
afterAll(async () => {
  hub.stop()
  if (previous === undefined) delete process.env.HF_HUB_CACHE
  else process.env.HF_HUB_CACHE = previous
  await Promise.all(caches.map((dir) => rm(dir, { recursive: true, force: true })))
})

describe('downloadFile against a fake hub', () => {
  test('downloads with progress reaching the total, into the huggingface_hub cache layout', async () => {
    const data = bytes(300_000)
    const sha = hub.host('org/plain', 'model.gguf', { bytes: data })
    const seen: [number, number][] = []
    const path = await downloadFile({
      repo: 'org/plain',
      file: 'model.gguf',
      endpoint: hub.endpoint,
      token: 'hf_secret',
      onProgress: (done, total) => seen.push([done, total]),
    })
    const dir = repoCacheDir('org/plain', cache)
    expect(dir).toBe(join(cache, 'models--org--plain'))
    expect(path).toBe(join(dir, 'snapshots', COMMIT, 'model.gguf'))
    expect(new Uint8Array(await readFile(path))).toEqual(data)
    expect(await readlink(path)).toBe(join('..', '..', 'blobs', sha))
    expect((await stat(join(dir, 'blobs', sha))).size).toBe(data.length)
    expect(await readFile(join(dir, 'refs', 'main'), 'utf8')).toBe(COMMIT)
    expect(seen.at(-1)).toEqual([data.length, data.length])
    expect(hub.gets()[0]!.auth).toBe('Bearer hf_secret')

    // A second call (or a file another tool put there) is found, not fetched again.
    hub.requests.length = 0
    expect(await findCached('org/plain', 'model.gguf')).toBe(path)
    expect(await downloadFile({ repo: 'org/plain', file: 'model.gguf', endpoint: hub.endpoint })).toBe(path)
    expect(hub.requests).toEqual([])
  })

  test('a body cut off midway is resumed with Range', async () => {
    const data = bytes(200_000, 7)
    hub.host('org/cut', 'weights.bin', { bytes: data, cutAt: 80_000 })
    const path = await downloadFile({ repo: 'org/cut', file: 'weights.bin', endpoint: hub.endpoint })
    expect(new Uint8Array(await readFile(path))).toEqual(data)
    const gets = hub.gets()
    expect(gets).toHaveLength(2)
    expect(gets[0]!.range).toBeNull()
    expect(gets[1]!.range).toBe('bytes=80000-')
  })

  test('a corrupt body is refused by its sha256 and the partial deleted', async () => {
    const data = bytes(50_000, 3)
    const sha = hub.host('org/bad', 'x.bin', { bytes: data, corrupt: bytes(50_000, 4) })
    const error = await downloadFile({ repo: 'org/bad', file: 'x.bin', endpoint: hub.endpoint }).catch((e) => e)
    expect(error).toBeInstanceOf(DownloadChecksumError)
    const blobs = join(repoCacheDir('org/bad', cache), 'blobs')
    expect(await stat(join(blobs, `${sha}.incomplete`)).catch(() => 'gone')).toBe('gone')
    expect(await stat(join(blobs, sha)).catch(() => 'gone')).toBe('gone')
    expect(await findCached('org/bad', 'x.bin')).toBeUndefined()
  })

  test('two concurrent callers share one request and its progress', async () => {
    const data = bytes(120_000, 9)
    const held = Promise.withResolvers<void>()
    hub.host('org/shared', 'a.bin', { bytes: data, holdAt: 1000, release: held.promise })
    const a: number[] = []
    const b: number[] = []
    const first = downloadFile({ repo: 'org/shared', file: 'a.bin', endpoint: hub.endpoint, onProgress: (d) => a.push(d) })
    const second = downloadFile({ repo: 'org/shared', file: 'a.bin', endpoint: hub.endpoint, onProgress: (d) => b.push(d) })
    held.resolve()
    const [p1, p2] = await Promise.all([first, second])
    expect(p1).toBe(p2)
    expect(hub.gets()).toHaveLength(1)
    expect(hub.requests.filter((r) => r.method === 'HEAD')).toHaveLength(1)
    expect(a.at(-1)).toBe(data.length)
    expect(b.at(-1)).toBe(data.length)
  })

  test('401 and 404 give clear typed errors', async () => {
    const gated = await downloadFile({ repo: 'gated/model', file: 'x.gguf', endpoint: hub.endpoint }).catch((e) => e)
    expect(gated).toBeInstanceOf(HubAuthError)
    expect(gated.status).toBe(401)
    expect(gated.message).toContain('HF_TOKEN')
    const missing = await downloadFile({ repo: 'org/nothing', file: 'x.gguf', endpoint: hub.endpoint }).catch((e) => e)
    expect(missing).toBeInstanceOf(HubNotFoundError)
    expect(missing.message).toContain('org/nothing/x.gguf')
  })

  test('cancel via AbortSignal keeps the partial and a later call resumes it', async () => {
    const data = bytes(150_000, 5)
    const held = Promise.withResolvers<void>()
    const sha = hub.host('org/cancel', 'm.bin', { bytes: data, holdAt: 60_000, release: held.promise })
    const controller = new AbortController()
    const reached = Promise.withResolvers<void>()
    const pending = downloadFile({
      repo: 'org/cancel',
      file: 'm.bin',
      endpoint: hub.endpoint,
      signal: controller.signal,
      onProgress: (done) => done >= 60_000 && reached.resolve(),
    })
    await reached.promise
    controller.abort()
    expect((await pending.catch((e) => e)).name).toBe('AbortError')
    // The abort settles only once the partial is closed, so its size is final here.
    const partial = join(repoCacheDir('org/cancel', cache), 'blobs', `${sha}.incomplete`)
    expect((await stat(partial)).size).toBe(60_000)
    held.resolve()
    hub.files.get('/org/cancel/resolve/main/m.bin')!.holdAt = undefined
    hub.requests.length = 0
    const path = await downloadFile({ repo: 'org/cancel', file: 'm.bin', endpoint: hub.endpoint })
    expect(new Uint8Array(await readFile(path))).toEqual(data)
    expect(hub.gets()[0]!.range).toBe('bytes=60000-')
  })
})
