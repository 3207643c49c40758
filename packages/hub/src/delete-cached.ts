import { lstat, readdir, readlink, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { checkRepoFile, hubCacheDir, repoCacheDir, resolveRef, snapshotPath } from './hf-cache.ts'

/** Every snapshot link of a repository's cache folder, resolved to the blob it points at. */
async function snapshotLinks(repo: string, root: string): Promise<Map<string, string>> {
  const links = new Map<string, string>()
  const snapshots = join(repoCacheDir(repo, root), 'snapshots')
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isSymbolicLink()) links.set(path, resolve(dirname(path), await readlink(path)))
    }
  }
  await walk(snapshots)
  return links
}

/**
 * Deletes a cached file: its snapshot entry at the revision, its blob unless another snapshot still links
 * to it, and a partial download of it. True when there was something to delete.
 */
export async function deleteCached(repo: string, file: string, revision = 'main', root = hubCacheDir()): Promise<boolean> {
  checkRepoFile(repo, file)
  const commit = await resolveRef(repo, revision, root)
  if (!commit) return false
  const path = snapshotPath(repo, commit, file, root)
  const info = await lstat(path).catch(() => undefined)
  if (!info) return false
  const links = await snapshotLinks(repo, root)
  const blob = links.get(path)
  await rm(path, { force: true })
  if (blob && ![...links].some(([other, target]) => other !== path && target === blob)) {
    await rm(blob, { force: true })
    await rm(`${blob}.incomplete`, { force: true })
  }
  return true
}
