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

const COMMIT = 'c0ffee'.padEnd(40, '0')

interface Hosted {
  bytes: Uint8Array
  /** Serve this many bytes and then end the body early, once. */
  cutAt?: number
  /** Serve these bytes instead of the announced ones (a corrupt transfer). */
  corrupt?: Uint8Array
  /** Hold the body after this many bytes until `release` resolves. */
  holdAt?: number
  release?: Promise<void>
}

/**
 * TEST DOUBLE at the network boundary: a fake Hugging Face hub (the internet is unreachable here).
 * It serves `/{repo}/resolve/{revision}/{file}` with the hub's headers and honours `Range`.
 */
class FakeHub {
  readonly files = new Map<string, Hosted>()
  readonly requests: { method: string; path: string; range: string | null; auth: string | null }[] = []
  readonly server = Bun.serve({ port: 0, fetch: (req) => this.answer(req) })
  readonly endpoint = `http://127.0.0.1:${this.server.port}`

  host(repo: string, file: string, hosted: Hosted): string {
    this.files.set(`/${repo}/resolve/main/${file}`, hosted)
    return new Bun.CryptoHasher('sha256').update(hosted.bytes).digest('hex')
  }

  gets = () => this.requests.filter((r) => r.method === 'GET')

  private answer(req: Request): Response {
    const url = new URL(req.url)
    this.requests.push({
      method: req.method,
      path: url.pathname,
      range: req.headers.get('range'),
      auth: req.headers.get('authorization'),
    })
    if (url.pathname.includes('/gated/')) return new Response('gated', { status: 401 })
    const hosted = this.files.get(url.pathname)
    if (!hosted) return new Response('missing', { status: 404 })
    const sha = new Bun.CryptoHasher('sha256').update(hosted.bytes).digest('hex')
    const headers: Record<string, string> = {
      'X-Repo-Commit': COMMIT,
      ETag: `"${sha}"`,
      'X-Linked-Etag': `"${sha}"`,
      'X-Linked-Size': String(hosted.bytes.length),
      'Accept-Ranges': 'bytes',
    }
    if (req.method === 'HEAD') return new Response(null, { headers })
    const range = /^bytes=(\d+)-$/.exec(req.headers.get('range') ?? '')
    const from = range ? Number(range[1]) : 0
    const body = (hosted.corrupt ?? hosted.bytes).subarray(from)
    if (range) headers['Content-Range'] = `bytes ${from}-${hosted.bytes.length - 1}/${hosted.bytes.length}`
    headers['Content-Length'] = String(body.length)
    const { cutAt, holdAt, release } = hosted
    hosted.cutAt = undefined
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        const split = cutAt ?? holdAt
        if (split === undefined) {
          controller.enqueue(body)
          controller.close()
          return
        }
        controller.enqueue(body.subarray(0, split))
        // The connection ends early: the client gets fewer bytes than the announced size.
        if (cutAt !== undefined) return controller.close()
        await release
        controller.enqueue(body.subarray(split))
        controller.close()
      },
    })
    return new Response(stream, { status: range ? 206 : 200, headers })
  }
}

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
  hub.server.stop(true)
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
