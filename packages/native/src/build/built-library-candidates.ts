import { dirname, join } from 'node:path'
import type { LibraryCandidate } from '../library/resolve-engine-library.ts'
import { candidateBackends, type Backend } from './backend.ts'
import { withBuildLock } from './build-lock.ts'
import { buildOncePerBackend } from './build-once.ts'

/** An engine this package builds from sources into a cache folder per backend. */
export interface BuiltLibrarySpec {
  /** The environment variable that names a library (its file or folder) when no `libPath` is given ("CY_SD_LIB"). */
  envVariable: string
  /** A backend's build folder (its libraries in lib/). */
  buildDir(backend: Backend): string
  /** Whether a lib/ folder holds a finished build. */
  isBuilt(libDir: string): boolean
  /** Builds for a backend into its build folder; returns the lib/ folder. */
  build(backend: Backend, log: (line: string) => void, onPercent: (percent: number) => void): Promise<string>
  /** Said when a build starts, even when quiet: a model load that takes minutes must say why. */
  notice(backend: Backend): string
}

const LIBRARY_FILE = /\.(so|dylib|dll)(\.|$)/

/**
 * The candidates an engine library is looked for in, in order: an explicit path (`libPath`, else the
 * environment variable: the library file or its folder); a finished build in the cache, best backend
 * first; building one now, best backend first (a GPU build that fails falls back to CPU). A build runs
 * once per backend in this process, and one at a time across processes.
 */
export function builtLibraryCandidates(spec: BuiltLibrarySpec): (libPath: string | undefined, log: (line: string) => void, onPercent?: (percent: number) => void) => LibraryCandidate[] {
  const once = buildOncePerBackend()
  const build = (backend: Backend, log: (line: string) => void, onPercent?: (percent: number) => void) =>
    once(
      backend,
      (report) =>
        withBuildLock(spec.buildDir(backend), async () => {
          // Another process may have built it while this one waited for the lock.
          const dir = join(spec.buildDir(backend), 'lib')
          if (spec.isBuilt(dir)) return dir
          console.error(spec.notice(backend))
          return spec.build(backend, log, report)
        }),
      onPercent,
    )
  return (libPath, log, onPercent) => {
    const candidates: LibraryCandidate[] = []
    const explicit = libPath ?? process.env[spec.envVariable]
    if (explicit) candidates.push({ source: libPath ? 'libPath' : spec.envVariable, dir: LIBRARY_FILE.test(explicit) ? dirname(explicit) : explicit })
    const backends = candidateBackends()
    for (const backend of backends) {
      const dir = join(spec.buildDir(backend), 'lib')
      candidates.push({ source: `cache (${backend})`, dir: spec.isBuilt(dir) ? dir : undefined })
    }
    for (const backend of backends) candidates.push({ source: `build (${backend})`, dir: () => build(backend, log, onPercent) })
    return candidates
  }
}
