import { resolveEngineLibrary } from '@cy/native'
import { dirname, join } from 'node:path'
import { buildMtmd, isMtmdBuilt, mtmdBuildDir } from './build-mtmd.ts'
import { isPinnedVersion, LLAMA_CPP_VERSION } from './llama-version.ts'

/**
 * The folder of a libmtmd for the libllama in `llamaDir`, in order: an explicit one (`mtmdLib`, else
 * CY_MTMD_LIB: the library file or its folder); a build in the cache linked with these libraries; one
 * built now (about a minute). Each is smoke-tested in a child process; each step is logged.
 */
export async function resolveMtmdLibrary(llamaDir: string, mtmdLib: string | undefined, log: (line: string) => void = () => {}): Promise<string> {
  const explicit = mtmdLib ?? process.env.CY_MTMD_LIB
  const cached = mtmdBuildDir()
  const found = await resolveEngineLibrary(
    {
      engine: 'libmtmd',
      version: LLAMA_CPP_VERSION,
      // A libmtmd built elsewhere carries no stamp: taken on trust, as the user named it.
      isPinnedVersion: (version) => version === 'unknown' || isPinnedVersion(version),
      smokeScript: join(import.meta.dir, 'mtmd-smoke-test.ts'),
      candidates: [
        ...(explicit ? [{ source: mtmdLib ? 'mtmdLib' : 'CY_MTMD_LIB', dir: /\.(so|dylib|dll)$/.test(explicit) ? dirname(explicit) : explicit }] : []),
        { source: 'cache', dir: isMtmdBuilt(cached, llamaDir) ? cached : undefined },
        { source: 'build', dir: () => buildMtmd(llamaDir, log) },
      ],
      hint: `Vision needs libmtmd: it is built from llama.cpp ${LLAMA_CPP_VERSION}'s sources (git, a C++ compiler, and npm to fetch them), or point CY_MTMD_LIB at one built with the same llama.cpp.`,
    },
    log,
  )
  return found.dir
}
