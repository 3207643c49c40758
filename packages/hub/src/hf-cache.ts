import { copyFile, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join, relative } from 'node:path'

/** The hub cache root, resolved as huggingface_hub does so both tools share one cache. */
export function hubCacheDir(env: Record<string, string | undefined> = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE
  if (env.HF_HOME) return join(env.HF_HOME, 'hub')
  return join(homedir(), '.cache', 'huggingface', 'hub')
}

const REPO = /^[\w.-]+\/[\w.-]+$/
const COMMIT = /^[0-9a-f]{40}$/

/** Refuses names that would escape the cache folder (`..`, absolute paths). */
export function checkRepoFile(repo: string, file: string): void {
  if (!REPO.test(repo) || repo.split('/').some((part) => part === '..' || part === '.'))
    throw new TypeError(`invalid repository id "${repo}": expected "org/name"`)
  const parts = file.split('/')
  if (file.startsWith('/') || file.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..'))
    throw new TypeError(`invalid file path "${file}" in ${repo}`)
}

/** `models--{org}--{repo}` under the cache root. */
export function repoCacheDir(repo: string, root = hubCacheDir()): string {
  return join(root, `models--${repo.replaceAll('/', '--')}`)
}

export const blobPath = (repo: string, etag: string, root = hubCacheDir()): string =>
  join(repoCacheDir(repo, root), 'blobs', etag)

export const snapshotPath = (repo: string, commit: string, file: string, root = hubCacheDir()): string =>
  join(repoCacheDir(repo, root), 'snapshots', commit, file)

/** The commit a revision points at: a commit hash is itself, a branch or tag is read from `refs/`. */
export async function resolveRef(repo: string, revision: string, root = hubCacheDir()): Promise<string | undefined> {
  if (COMMIT.test(revision)) return revision
  const ref = await readFile(join(repoCacheDir(repo, root), 'refs', revision), 'utf8').catch(() => undefined)
  return ref?.trim() || undefined
}

/** The snapshot path of a file already in the cache (whoever downloaded it), else undefined. */
export async function findCached(
  repo: string,
  file: string,
  revision = 'main',
  root = hubCacheDir(),
): Promise<string | undefined> {
  checkRepoFile(repo, file)
  const commit = await resolveRef(repo, revision, root)
  if (!commit) return undefined
  const path = snapshotPath(repo, commit, file, root)
  // stat follows the link, so a dangling link to a deleted blob counts as missing.
  const info = await stat(path).catch(() => undefined)
  return info?.isFile() ? path : undefined
}

/** Records a finished blob: `refs/<revision>` and the snapshot link (a copy where symlinks fail). */
export async function linkSnapshot(
  repo: string,
  revision: string,
  commit: string,
  file: string,
  etag: string,
  root = hubCacheDir(),
): Promise<string> {
  const dir = repoCacheDir(repo, root)
  if (revision !== commit) {
    await mkdir(join(dir, 'refs', dirname(revision)), { recursive: true })
    await writeFile(join(dir, 'refs', revision), commit)
  }
  const blob = blobPath(repo, etag, root)
  const link = snapshotPath(repo, commit, file, root)
  await mkdir(dirname(link), { recursive: true })
  await rm(link, { force: true })
  try {
    await symlink(relative(dirname(link), blob), link)
  } catch {
    await copyFile(blob, link)
  }
  return link
}
