import { builtLibraryCandidates, resolveEngineLibrary } from '@cy/native'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { readBuildStamp } from './build-stamp.ts'
import { buildDir, buildEngine, clipMergesFile, shimHeaderDirs } from './engine-build.ts'
import { isPinnedCommit, SD_CPP_COMMIT, SD_CPP_SHORT_COMMIT } from './sd-version.ts'

export interface ResolvedSd {
  libDir: string
  /** Where the header for the shim is (the build's own copy, else the pinned sources). */
  headerDirs: string[]
  /** The CLIP merges the tokenizer reads. */
  mergesFile: string
  /** Where it came from ("libPath", "CY_SD_LIB", "cache (cpu)", "build (cpu)"). */
  source: string
  /** The commit it reported (or its build stamp names). */
  version: string
}

const hasLibrary = (dir: string) => existsSync(dir) && readdirSync(dir).some((name) => name.startsWith('libstable-diffusion'))

/** A cached build is one that finished: its stamp is written last. */
const isCachedBuild = (dir: string) => hasLibrary(dir) && readBuildStamp(dir) !== undefined

const candidates = builtLibraryCandidates({
  envVariable: 'CY_SD_LIB',
  buildDir,
  isBuilt: isCachedBuild,
  build: (backend, log, onPercent) => buildEngine({ backend, log, onPercent }),
  notice: (backend) =>
    `[sdxl] building stable-diffusion.cpp ${SD_CPP_SHORT_COMMIT} (${backend}) for its first use: about 10 minutes on 2 cores, once (cached in ${buildDir(backend)}); \`bun run engines:build sd\` does it ahead of time`,
})

/**
 * Finds libstable-diffusion, in order, each step logged: (1) an explicit path (`libPath`, or CY_SD_LIB:
 * the library file or its folder); (2) a build this package made and cached, best backend first; (3)
 * building one now from the sources (`CY_SD_SRC`, or this repository's vendored copy; a GPU build that
 * fails falls back to CPU). Each is smoke-tested in a child process and must be the pinned commit, whose
 * structs the shim is compiled against: sd_commit(), or for a build from sources without git (which says
 * "unknown") the commit its `sd-build.json` stamp names. The error lists every attempt when nothing works.
 */
export async function resolveSdLibrary(
  libPath: string | undefined,
  log: (line: string) => void = () => {},
  /** A build's percent, while this load waits on one. */
  onPercent?: (percent: number) => void,
): Promise<ResolvedSd> {
  const found = await resolveEngineLibrary(
    {
      engine: 'stable-diffusion.cpp',
      version: SD_CPP_COMMIT,
      isPinnedVersion: isPinnedCommit,
      smokeScript: join(import.meta.dir, 'smoke-test.ts'),
      candidates: candidates(libPath, log, onPercent),
      hint: `Set CY_SD_LIB to a libstable-diffusion built from stable-diffusion.cpp ${SD_CPP_COMMIT} (a build from sources without git reports its commit as "unknown": put an sd-build.json with {"commit": "${SD_CPP_COMMIT}"} beside it), or run \`bun run engines:build sd\` (needs cmake, a C++ compiler and the sources: --src DIR or CY_SD_SRC).`,
    },
    log,
  )
  return { libDir: found.dir, headerDirs: shimHeaderDirs(found.dir), mergesFile: clipMergesFile(found.dir), source: found.source, version: found.version }
}
