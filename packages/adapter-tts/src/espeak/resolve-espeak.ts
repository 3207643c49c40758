import { resolveEngineLibrary, type LibraryCandidate } from '@cy/native'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { EspeakError } from './espeak-error.ts'
import { ESPEAK_SONAME, HOMEBREW_LIBRARIES } from './espeak-library-file.ts'

export interface EspeakLocationOptions {
  /** libespeak-ng: a file, its folder, or a soname (default: CY_ESPEAK_LIB, then the system's). */
  espeakLib?: string
  /** The espeak-ng-data folder (default: ESPEAK_DATA_PATH, then where the library looks). */
  espeakData?: string
}

export interface ResolvedEspeak {
  /** What to dlopen. */
  library: string
  dataPath: string
  version: string
  /** Where each came from ("espeakLib", "CY_ESPEAK_LIB", "system", "ESPEAK_DATA_PATH", "library default"). */
  source: string
  dataSource: string
}

/** The oldest espeak-ng whose TextToPhonemes output Piper and Kokoro voices match (Debian 12 ships 1.51). */
export const ESPEAK_MIN_VERSION = '1.51'

const atLeastMinimum = (version: string) => {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > 1 || (major === 1 && minor >= 51)
}

/** Folders espeak-ng-data is commonly installed in, after the library's own answer. */
const KNOWN_DATA_DIRS = [
  '/usr/lib/x86_64-linux-gnu/espeak-ng-data',
  '/usr/lib/aarch64-linux-gnu/espeak-ng-data',
  '/usr/share/espeak-ng-data',
  '/usr/local/share/espeak-ng-data',
  '/opt/homebrew/share/espeak-ng-data',
]

const isDataDir = (dir: string) => existsSync(join(dir, 'phontab')) && existsSync(join(dir, 'phondata'))

const INSTALL_HINT =
  'Install espeak-ng (Debian/Ubuntu: apt-get install libespeak-ng1 espeak-ng-data; macOS: brew install espeak-ng), or set CY_ESPEAK_LIB to libespeak-ng and ESPEAK_DATA_PATH to its espeak-ng-data folder.'

function libraryCandidates(espeakLib: string | undefined): LibraryCandidate[] {
  const explicit = espeakLib ?? process.env.CY_ESPEAK_LIB
  if (explicit) return [{ source: espeakLib ? 'espeakLib' : 'CY_ESPEAK_LIB', dir: explicit }]
  if (process.platform === 'darwin') return HOMEBREW_LIBRARIES.map((file) => ({ source: 'Homebrew', dir: existsSync(file) ? file : undefined }))
  return [{ source: 'system', dir: ESPEAK_SONAME }]
}

/**
 * Finds libespeak-ng (smoke-tested in a child process, at least 1.51) and its data folder: the option,
 * the environment variable, then the system's; each step logged, and when nothing works the error lists
 * every place tried and why it failed.
 */
export async function resolveEspeak(options: EspeakLocationOptions = {}, log: (line: string) => void = () => {}): Promise<ResolvedEspeak> {
  const found = await resolveEngineLibrary(
    {
      engine: 'espeak-ng',
      version: ESPEAK_MIN_VERSION,
      isPinnedVersion: atLeastMinimum,
      smokeScript: join(import.meta.dir, 'espeak-smoke-test.ts'),
      candidates: libraryCandidates(options.espeakLib),
      hint: INSTALL_HINT,
    },
    log,
  )
  const library = String(found.smoke.library)
  const explicit = options.espeakData ?? process.env.ESPEAK_DATA_PATH
  const dataCandidates: Array<[source: string, dir: string]> = explicit
    ? [[options.espeakData ? 'espeakData' : 'ESPEAK_DATA_PATH', explicit]]
    : [['library default', String(found.smoke.dataPath ?? '')], ...KNOWN_DATA_DIRS.map((dir): [string, string] => ['known folder', dir])]
  const tried: string[] = []
  for (const [dataSource, dir] of dataCandidates) {
    if (dir && isDataDir(dir)) {
      log(`espeak-ng ${found.version} from ${found.source} (${library}), data in ${dir} (${dataSource})`)
      return { library, dataPath: dir, version: found.version, source: found.source, dataSource }
    }
    tried.push(`${dataSource}: ${dir ? `${dir} has no phontab/phondata` : 'none reported'}`)
  }
  throw new EspeakError(`No espeak-ng-data folder found. Tried:\n  ${tried.join('\n  ')}\n${INSTALL_HINT}`)
}
