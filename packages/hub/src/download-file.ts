import { createReadStream } from 'node:fs'
import { mkdir, open, rename, rm, stat, statfs } from 'node:fs/promises'
import { dirname } from 'node:path'
import { DiskSpaceError } from './disk-space-error.ts'
import { DownloadChecksumError } from './download-checksum-error.ts'
import { blobPath, checkRepoFile, findCached, hubCacheDir, linkSnapshot } from './hf-cache.ts'
import { HubAuthError } from './hub-auth-error.ts'
import { auth, checkStatus, hubEndpoint } from './hub-request.ts'
import { HubHttpError } from './hub-http-error.ts'
import { HubNotFoundError } from './hub-not-found-error.ts'

export interface DownloadOptions {
  repo: string
  file: string
  revision?: string
  /** Defaults to HF_ENDPOINT, then https://huggingface.co. */
  endpoint?: string
  /** Defaults to HF_TOKEN. */
  token?: string
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
}

const SHA256 = /^[0-9a-f]{64}$/
const MAX_REDIRECTS = 10
/** Body cuts retried with Range inside one call before giving up (the partial stays either way). */
const MAX_RESUMES = 3

interface Flight {
  promise: Promise<string>
  listeners: Set<(done: number, total: number) => void>
  callers: number
  controller: AbortController
}

/** One download per file in this process; concurrent callers join it and share its progress. */
const flights = new Map<string, Flight>()

/** Downloads a hub file into the shared cache (or finds it there) and returns its snapshot path. */
export async function downloadFile(options: DownloadOptions): Promise<string> {
  const { repo, file, revision = 'main', signal, onProgress } = options
  checkRepoFile(repo, file)
  signal?.throwIfAborted()
  const root = hubCacheDir()
  const cached = await findCached(repo, file, revision, root)
  if (cached) return cached
  const key = `${root}\0${repo}\0${revision}\0${file}`
  let flight = flights.get(key)
  if (!flight) {
    const controller = new AbortController()
    const listeners = new Set<(done: number, total: number) => void>()
    const promise = fetchToCache(options, root, controller.signal, (done, total) => {
      for (const listener of listeners) listener(done, total)
    }).finally(() => flights.delete(key))
    flight = { promise, listeners, callers: 0, controller }
    flights.set(key, flight)
  }
  return join(flight, signal, onProgress)
}

/**
 * Attaches one caller; its abort detaches only it. The last caller's abort stops the transfer and
 * rejects once the partial file is closed, so the cache is settled when the caller sees the abort.
 */
function join(flight: Flight, signal?: AbortSignal, onProgress?: (done: number, total: number) => void) {
  flight.callers++
  if (onProgress) flight.listeners.add(onProgress)
  let leave = () => {}
  const aborted = new Promise<never>((_, reject) => {
    if (!signal) return
    const onAbort = () => {
      if (flight.callers > 1) return reject(signal.reason)
      flight.controller.abort(signal.reason)
      flight.promise.then(
        () => reject(signal.reason),
        () => reject(signal.reason),
      )
    }
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    leave = () => signal.removeEventListener('abort', onAbort)
  })
  aborted.catch(() => {})
  return Promise.race([flight.promise, aborted]).finally(() => {
    leave()
    if (onProgress) flight.listeners.delete(onProgress)
    flight.callers--
  })
}

interface Meta {
  url: string
  commit: string
  etag: string
  size: number
}

async function fetchToCache(
  options: DownloadOptions,
  root: string,
  signal: AbortSignal,
  progress: (done: number, total: number) => void,
): Promise<string> {
  const { repo, file, revision = 'main' } = options
  const endpoint = hubEndpoint(options.endpoint)
  const token = options.token ?? process.env.HF_TOKEN
  const path = file.split('/').map(encodeURIComponent).join('/')
  const url = `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`
  const meta = await headMeta(url, token, signal, `${repo}/${file}@${revision}`)
  const blob = blobPath(repo, meta.etag, root)
  await mkdir(dirname(blob), { recursive: true })
  const exists = await stat(blob).catch(() => undefined)
  if (!exists) await fetchBlob(meta, blob, token, signal, progress)
  return linkSnapshot(repo, revision, meta.commit, file, meta.etag, root)
}

/** HEAD without following off-site redirects: the hub's own answer carries the commit, etag and size. */
async function headMeta(url: string, token: string | undefined, signal: AbortSignal, what: string): Promise<Meta> {
  let current = url
  for (let hop = 0; ; hop++) {
    const res = await fetch(current, { method: 'HEAD', redirect: 'manual', headers: auth(token), signal })
    checkStatus(res, what)
    const location = res.headers.get('location')
    const next = res.status >= 300 && res.status < 400 && location ? safeRedirect(location, current) : undefined
    // Follow same-origin hops (a renamed repo); a CDN hop keeps the hub's headers on this response.
    if (next && new URL(next).origin === new URL(current).origin && !res.headers.has('x-repo-commit')) {
      if (hop >= MAX_REDIRECTS) throw new HubHttpError(`too many redirects for ${what}`)
      current = next
      continue
    }
    const commit = res.headers.get('x-repo-commit')
    const etag = (res.headers.get('x-linked-etag') ?? res.headers.get('etag'))?.replace(/^W\//, '').replaceAll('"', '')
    const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length'))
    if (!commit || !etag || !Number.isFinite(size))
      throw new HubHttpError(`the hub's answer for ${what} lacks X-Repo-Commit, ETag or a size`, res.status)
    return { url: current, commit, etag, size }
  }
}

async function fetchBlob(
  meta: Meta,
  blob: string,
  token: string | undefined,
  signal: AbortSignal,
  progress: (done: number, total: number) => void,
): Promise<void> {
  const partial = `${blob}.incomplete`
  let done = (await stat(partial).catch(() => undefined))?.size ?? 0
  if (done > meta.size) {
    await rm(partial, { force: true })
    done = 0
  }
  const free = await statfs(dirname(blob))
  if (free.bavail * free.bsize < meta.size - done)
    throw new DiskSpaceError(
      `${meta.size - done} bytes needed in ${dirname(blob)}, ${free.bavail * free.bsize} free`,
    )
  for (let attempt = 0; done < meta.size; attempt++) {
    if (attempt > MAX_RESUMES) throw new HubHttpError(`${meta.url}: the body kept breaking off at ${done} of ${meta.size} bytes`)
    try {
      done = await fetchRange(meta, partial, done, token, signal, progress)
    } catch (error) {
      // A cut body is resumed with Range; an abort or a hub refusal is not.
      if (signal.aborted || error instanceof HubHttpError || error instanceof HubAuthError || error instanceof HubNotFoundError)
        throw error
      done = (await stat(partial).catch(() => undefined))?.size ?? 0
    }
  }
  if (done === 0) progress(0, 0)
  if (SHA256.test(meta.etag)) {
    const hasher = new Bun.CryptoHasher('sha256')
    for await (const chunk of createReadStream(partial)) hasher.update(chunk as Buffer)
    const actual = hasher.digest('hex')
    if (actual !== meta.etag) {
      await rm(partial, { force: true })
      throw new DownloadChecksumError(`${meta.url}: sha256 ${actual}, expected ${meta.etag}; the partial was deleted`)
    }
  }
  await rename(partial, blob)
}

/** One GET appending from `from`; returns the bytes on disk when the body ends or breaks off. */
async function fetchRange(
  meta: Meta,
  partial: string,
  from: number,
  token: string | undefined,
  signal: AbortSignal,
  progress: (done: number, total: number) => void,
): Promise<number> {
  const res = await getFollowing(meta.url, token, from, signal)
  const resumed = res.status === 206
  if (from > 0 && !resumed) from = 0 // the server ignored Range: start over
  const handle = await open(partial, resumed ? 'a' : 'w')
  let done = from
  try {
    progress(done, meta.size)
    const reader = res.body!.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      const chunk = read.value
      await handle.write(chunk)
      done += chunk.byteLength
      progress(done, meta.size)
    }
  } finally {
    await handle.close()
  }
  return done
}

async function getFollowing(url: string, token: string | undefined, from: number, signal: AbortSignal) {
  let current = url
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    // The token goes only to the hub's own origin, never to a CDN.
    const headers = new URL(current).origin === new URL(url).origin ? auth(token) : {}
    if (from > 0) headers.Range = `bytes=${from}-`
    const res = await fetch(current, { redirect: 'manual', headers, signal })
    checkStatus(res, url)
    const location = res.headers.get('location')
    if (res.status >= 300 && res.status < 400 && location) {
      current = safeRedirect(location, current)
      continue
    }
    if ((res.status !== 200 && res.status !== 206) || !res.body)
      throw new HubHttpError(`GET ${url} answered ${res.status}`, res.status)
    return res
  }
  throw new HubHttpError(`too many redirects for ${url}`)
}

function safeRedirect(location: string, base: string): string {
  const next = new URL(location, base)
  if (next.protocol !== 'http:' && next.protocol !== 'https:')
    throw new HubHttpError(`refusing a redirect to ${next.protocol} from ${base}`)
  return next.href
}
