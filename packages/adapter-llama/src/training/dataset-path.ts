import { realpath, stat } from 'node:fs/promises'
import { isAbsolute, relative, sep } from 'node:path'
import { TrainingDatasetError } from './training-dataset-error.ts'

/** Whether `path` is below `dir` (both absolute; compared as written, so resolve links first where they matter). */
export function isInside(dir: string, path: string): boolean {
  const rest = relative(dir, path)
  return rest !== '' && rest !== '..' && !rest.startsWith(`..${sep}`) && !isAbsolute(rest)
}

/**
 * A file's real path (symlinks resolved) when it is inside one of `allowedDirs` (also resolved): a link
 * inside a folder pointing out of it counts as outside. Why not, otherwise.
 */
export async function resolveAllowedFile(path: string, allowedDirs: readonly string[], folders = 'data folder'): Promise<{ path: string } | { refused: string }> {
  const real = await realpath(path).catch(() => undefined)
  if (real === undefined) return { refused: 'does not exist or cannot be read' }
  const dirs = await Promise.all(allowedDirs.map((dir) => realpath(dir).catch(() => undefined)))
  const inside = dirs.some((dir) => dir !== undefined && isInside(dir, real))
  if (!inside) return { refused: `is not inside an allowed ${folders}` }
  if (!(await stat(real)).isFile()) return { refused: 'is not a file' }
  return { path: real }
}

/** The dataset's real path, when it is a file inside one of `allowedDirs`; else the 400 saying why. */
export async function resolveDatasetPath(path: string, allowedDirs: readonly string[]): Promise<string> {
  const found = await resolveAllowedFile(path, allowedDirs)
  if ('refused' in found) throw new TrainingDatasetError(`datasetPath ${JSON.stringify(path)} ${found.refused}`)
  return found.path
}
