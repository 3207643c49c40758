import { homedir } from 'node:os'
import { join } from 'node:path'

/** Where built engines are kept: CY_CACHE_DIR, else XDG_CACHE_HOME/cy, else ~/.cache/cy. */
export function cacheRoot(): string {
  return process.env.CY_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cy')
}
