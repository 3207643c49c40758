import { builtLibraryCandidates, resolveEngineLibrary } from '@cy/native'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { buildDir, buildEngine, shimHeaderDirs } from './engine-build.ts'
import { WHISPER_CPP_VERSION } from './whisper-version.ts'

export interface ResolvedWhisper {
  libDir: string
  /** Where the headers for the shim are (the pinned sources). */
  headerDirs: string[]
  /** Where it came from ("libPath", "CY_WHISPER_LIB", "cache (cpu)", "build (cpu)"). */
  source: string
  version: string
}

const hasWhisper = (dir: string) => existsSync(dir) && readdirSync(dir).some((name) => name.startsWith('libwhisper'))

const candidates = builtLibraryCandidates({
  envVariable: 'CY_WHISPER_LIB',
  buildDir,
  isBuilt: hasWhisper,
  build: (backend, log, onPercent) => buildEngine({ backend, log, onPercent }),
  notice: (backend) => `[whisper] building whisper.cpp ${WHISPER_CPP_VERSION} (${backend}) for its first use: a few minutes, once (cached in ${buildDir(backend)})`,
})

/**
 * Finds libwhisper, in order, each step logged: (1) an explicit path (`libPath`, or CY_WHISPER_LIB: the
 * library file or its folder); (2) a build this package made and cached, best backend first; (3) building
 * one now (a few minutes, once per version and backend; a GPU build that fails falls back to CPU). Each
 * is smoke-tested in a child process and must be whisper.cpp 1.9.1, the version whose structs the shim is
 * compiled against; the error lists every attempt when nothing works.
 */
export async function resolveWhisperLibrary(
  libPath: string | undefined,
  log: (line: string) => void = () => {},
  /** A build's percent, while this load waits on one. */
  onPercent?: (percent: number) => void,
): Promise<ResolvedWhisper> {
  const found = await resolveEngineLibrary(
    {
      engine: 'whisper.cpp',
      version: WHISPER_CPP_VERSION,
      smokeScript: join(import.meta.dir, 'smoke-test.ts'),
      candidates: candidates(libPath, log, onPercent),
      hint: `Set CY_WHISPER_LIB to a libwhisper built from whisper.cpp ${WHISPER_CPP_VERSION}, or install cmake and a C++ compiler for the adapter to build one.`,
    },
    log,
  )
  return { libDir: found.dir, headerDirs: shimHeaderDirs(), source: found.source, version: found.version }
}
