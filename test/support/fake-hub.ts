/** The commit every file of the fake hub is at. */
export const FAKE_HUB_COMMIT = 'c0ffee'.padEnd(40, '0')

export interface Hosted {
  bytes: Uint8Array
  /** Serve this many bytes and then end the body early, once. */
  cutAt?: number
  /** Serve these bytes instead of the announced ones (a corrupt transfer). */
  corrupt?: Uint8Array
  /** Hold the body after this many bytes until `release` resolves. */
  holdAt?: number
  release?: Promise<void>
}

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher('sha256').update(bytes).digest('hex')

/**
 * TEST DOUBLE at the network boundary: a fake Hugging Face hub (the internet is unreachable here).
 * It serves `/{repo}/resolve/{revision}/{file}` with the hub's headers and honours `Range`, and
 * `/api/models/{repo}/tree/{revision}` (the file listing, paged by `Link` when `pageSize` is set).
 */
export class FakeHub {
  readonly files = new Map<string, Hosted>()
  readonly requests: { method: string; path: string; range: string | null; auth: string | null }[] = []
  readonly server = Bun.serve({ port: 0, fetch: (req) => this.answer(req) })
  readonly endpoint = `http://127.0.0.1:${this.server.port}`
  /** Entries per page of the tree listing (default: all on one page). */
  pageSize = Infinity

  /** Hosts a file; returns its sha256 (the hub's X-Linked-Etag). */
  host(repo: string, file: string, hosted: Hosted): string {
    this.files.set(`/${repo}/resolve/main/${file}`, hosted)
    return sha256(hosted.bytes)
  }

  gets = () => this.requests.filter((r) => r.method === 'GET' && r.path.includes('/resolve/'))

  stop(): void {
    this.server.stop(true)
  }

  private answer(req: Request): Response {
    const url = new URL(req.url)
    this.requests.push({
      method: req.method,
      path: url.pathname,
      range: req.headers.get('range'),
      auth: req.headers.get('authorization'),
    })
    if (url.pathname.includes('/gated/')) return new Response('gated', { status: 401 })
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/main$/.exec(url.pathname)
    if (tree) return this.tree(tree[1]!, Number(url.searchParams.get('page') ?? 0))
    const hosted = this.files.get(url.pathname)
    if (!hosted) return new Response('missing', { status: 404 })
    const sha = sha256(hosted.bytes)
    const headers: Record<string, string> = {
      'X-Repo-Commit': FAKE_HUB_COMMIT,
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

  /** The hub's tree listing of a repository's files, as `/api/models/{repo}/tree/main?recursive=true` gives it. */
  private tree(repo: string, page: number): Response {
    const prefix = `/${repo}/resolve/main/`
    const entries = [...this.files].filter(([key]) => key.startsWith(prefix)).map(([key, hosted]) => {
      const path = key.slice(prefix.length)
      return { type: 'file', oid: 'f'.repeat(40), size: hosted.bytes.length, path, lfs: { oid: sha256(hosted.bytes), size: hosted.bytes.length, pointerSize: 134 } }
    })
    if (entries.length === 0) return new Response('{"error":"Repository not found"}', { status: 404 })
    const size = Number.isFinite(this.pageSize) ? this.pageSize : entries.length
    const slice = entries.slice(page * size, (page + 1) * size)
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if ((page + 1) * size < entries.length) headers.link = `<${this.endpoint}/api/models/${repo}/tree/main?recursive=true&page=${page + 1}>; rel="next"`
    return new Response(JSON.stringify([{ type: 'directory', oid: 'd'.repeat(40), size: 0, path: 'sub' }, ...slice]), { headers })
  }
}

/**
 * Points the process at `hub` and a cache below `dir` (HF_ENDPOINT, HF_HUB_CACHE, and CY_PULLED_MODELS for
 * the record of ad-hoc pulls), as an in-process server app reads them; returns the function restoring them.
 */
export function useFakeHub(hub: FakeHub, dir: string): () => void {
  const keys = ['HF_HUB_CACHE', 'HF_ENDPOINT', 'CY_PULLED_MODELS'] as const
  const saved = Object.fromEntries(keys.map((key) => [key, process.env[key]]))
  process.env.HF_HUB_CACHE = `${dir}/hub`
  process.env.HF_ENDPOINT = hub.endpoint
  process.env.CY_PULLED_MODELS = `${dir}/pulled.json`
  return () => {
    for (const key of keys) {
      if (saved[key] === undefined) delete process.env[key]
      else process.env[key] = saved[key]
    }
  }
}
