import { NoLibraryFoundError } from './no-library-found-error.ts'
import { smokeTestLibrary, type SmokeResult } from './smoke-test.ts'

export interface LibraryCandidate {
  /** Where it comes from, for logs and errors ("CY_WHISPER_LIB", "@node-llama-cpp/linux-x64", "build (cpu)"). */
  source: string
  /**
   * The library's folder; undefined when that source is not installed; a function for one made on
   * demand (a build), called only when every earlier candidate failed.
   */
  dir: string | undefined | (() => Promise<string>)
}

export interface EngineLibrarySpec {
  /** "whisper.cpp", "llama.cpp". */
  engine: string
  /** The version the adapter's shim is compiled against. */
  version: string
  /** Whether a library's reported version is the pinned one (default: equal). */
  isPinnedVersion?: (version: string) => boolean
  /** Run as `bun <smokeScript> <dir>`; prints a JSON object with `version` on its last line of stdout. */
  smokeScript: string
  candidates: LibraryCandidate[]
  /** What to do when nothing works, appended to the error. */
  hint: string
  smokeTimeoutMs?: number
}

export interface ResolvedEngineLibrary {
  dir: string
  source: string
  version: string
  /** Everything the smoke script printed. */
  smoke: SmokeResult
}

/**
 * Finds an engine library: each candidate in order is smoke-tested in a child process and must report
 * the pinned version; each step is logged, and when none works the error lists every candidate tried
 * and why each failed (a failed smoke test with its whole stderr).
 */
export async function resolveEngineLibrary(spec: EngineLibrarySpec, log: (line: string) => void = () => {}): Promise<ResolvedEngineLibrary> {
  const pinned = spec.isPinnedVersion ?? ((version: string) => version === spec.version)
  const tried: string[] = []
  for (const candidate of spec.candidates) {
    let dir: string | undefined
    try {
      dir = typeof candidate.dir === 'function' ? await candidate.dir() : candidate.dir
      if (!dir) {
        tried.push(`${candidate.source}: not installed`)
        continue
      }
      const smoke = await smokeTestLibrary(spec.smokeScript, dir, { timeoutMs: spec.smokeTimeoutMs, log })
      if (!pinned(smoke.version)) throw new Error(`it is ${spec.engine} ${smoke.version}; this adapter is built for ${spec.version}`)
      log(`${spec.engine} ${smoke.version} from ${candidate.source} (${dir})`)
      return { dir, source: candidate.source, version: smoke.version, smoke }
    } catch (error) {
      const reason = `${candidate.source}${dir ? ` (${dir})` : ''}: ${(error as Error).message}`
      tried.push(reason)
      log(`skipped ${reason}`)
    }
  }
  const list = tried.map((line) => line.replace(/\n/g, '\n    ')).join('\n  ')
  throw new NoLibraryFoundError(`No usable ${spec.engine} library. Tried:\n  ${list || '(nothing)'}\n${spec.hint}`)
}
