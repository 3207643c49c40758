import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** The soname the loader finds on Linux (Debian's libespeak-ng1). */
export const ESPEAK_SONAME = 'libespeak-ng.so.1'

/** Where Homebrew's espeak-ng puts its library (Apple silicon, then Intel). */
export const HOMEBREW_LIBRARIES = ['/opt/homebrew/lib/libespeak-ng.dylib', '/usr/local/lib/libespeak-ng.dylib']

/**
 * The library to dlopen for `path`: a folder's libespeak-ng (shortest name first: the .so before
 * .so.1.1.51), else the path itself (a file, or a soname for the loader's search path).
 */
export function espeakLibraryFile(path: string): string {
  if (!existsSync(path) || !statSync(path).isDirectory()) return path
  const name = readdirSync(path)
    .filter((n) => n.startsWith('libespeak-ng') && /\.(so|dylib|dll)(\.|$)/.test(n))
    .sort((a, b) => a.length - b.length)[0]
  if (!name) throw new Error(`no libespeak-ng in ${path}`)
  return join(path, name)
}
