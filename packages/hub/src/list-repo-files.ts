import { checkRepoFile } from './hf-cache.ts'
import { HubHttpError } from './hub-http-error.ts'
import { auth, checkStatus, hubEndpoint } from './hub-request.ts'

export interface RepoFile {
  path: string
  size: number
  /** The file's sha256 when the hub stores it with LFS (GGUF and other large files). */
  sha256?: string
}

export interface ListOptions {
  repo: string
  revision?: string
  endpoint?: string
  token?: string
  signal?: AbortSignal
}

interface TreeEntry {
  type: string
  path: string
  size?: number
  lfs?: { oid?: string; size?: number }
}

/** Guards against a hub that keeps answering with a next page. */
const MAX_PAGES = 100

/** Every file of a repository at a revision, through the hub's `GET /api/models/{repo}/tree/{revision}` (paged by `Link`). */
export async function listRepoFiles(options: ListOptions): Promise<RepoFile[]> {
  const { repo, revision = 'main', signal } = options
  checkRepoFile(repo, 'x')
  const token = options.token ?? process.env.HF_TOKEN
  const origin = hubEndpoint(options.endpoint)
  let url: string | undefined = `${origin}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`
  const files: RepoFile[] = []
  for (let page = 0; url; page++) {
    if (page >= MAX_PAGES) throw new HubHttpError(`${repo}: the file listing did not end after ${MAX_PAGES} pages`)
    const res: Response = await fetch(url, { headers: auth(token), signal })
    checkStatus(res, `${repo}@${revision}`)
    const entries = (await res.json().catch(() => undefined)) as TreeEntry[] | undefined
    if (!Array.isArray(entries)) throw new HubHttpError(`${repo}@${revision}: the hub's file listing is not a list`, res.status)
    for (const entry of entries) {
      if (entry.type !== 'file') continue
      const sha256 = entry.lfs?.oid
      files.push({ path: entry.path, size: entry.lfs?.size ?? entry.size ?? 0, ...(sha256 ? { sha256 } : {}) })
    }
    // The next page's link is absolute on the hub; resolve it against the endpoint either way, same origin only.
    const next: string | undefined = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1]
    url = next && new URL(next, origin).origin === new URL(origin).origin ? new URL(next, origin).href : undefined
  }
  return files
}
