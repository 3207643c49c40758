import { realpath, stat } from 'node:fs/promises'
import { isAbsolute, relative, sep } from 'node:path'
import { TrainingDatasetError } from './training-dataset-error.ts'

/**
 * The dataset's real path (symlinks resolved), when it is a file inside one of `allowedDirs` (also
 * resolved): a link inside the folder pointing out of it is refused like a path outside it.
 */
export async function resolveDatasetPath(path: string, allowedDirs: readonly string[]): Promise<string> {
  const real = await realpath(path).catch(() => {
    throw new TrainingDatasetError(`datasetPath ${JSON.stringify(path)} does not exist or cannot be read`)
  })
  const dirs = await Promise.all(allowedDirs.map((dir) => realpath(dir).catch(() => undefined)))
  const inside = dirs.some((dir) => {
    if (dir === undefined) return false
    const rest = relative(dir, real)
    return rest !== '' && rest !== '..' && !rest.startsWith(`..${sep}`) && !isAbsolute(rest)
  })
  if (!inside) throw new TrainingDatasetError(`datasetPath ${JSON.stringify(path)} is not inside an allowed data folder`)
  if (!(await stat(real)).isFile()) throw new TrainingDatasetError(`datasetPath ${JSON.stringify(path)} is not a file`)
  return real
}
