import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { buildDir, buildEngine, bundledSource, detectBackend, type Backend } from './engine-build.ts'

export interface ResolvedWhisper {
  libDir: string
  /** Where the headers for the shim are (the sources the library was built from). */
  headerDirs: string[]
  source: string
}

const hasWhisper = (dir: string) => existsSync(dir) && readdirSync(dir).some((name) => name.startsWith('libwhisper'))

let building: Promise<string> | undefined

/**
 * Finds libwhisper, in order, each step logged: (1) an explicit path (`libPath`, or CY_WHISPER_LIB: the
 * library file or its folder); (2) a build this package made and cached, best backend first; (3) building
 * one now (about two minutes, once per version and backend).
 */
export async function resolveWhisperLibrary(libPath: string | undefined, log: (line: string) => void = () => {}): Promise<ResolvedWhisper> {
  const source = bundledSource()
  const headerDirs = [join(source, 'include'), join(source, 'ggml', 'include')]
  const explicit = libPath ?? process.env.CY_WHISPER_LIB
  if (explicit) {
    const dir = explicit.match(/\.(so|dylib|dll)(\.|$)/) ? join(explicit, '..') : explicit
    if (hasWhisper(dir)) {
      log(`whisper.cpp from ${libPath ? 'libPath' : 'CY_WHISPER_LIB'} (${dir})`)
      return { libDir: dir, headerDirs, source: libPath ? 'libPath' : 'CY_WHISPER_LIB' }
    }
    log(`skipped ${explicit}: no libwhisper there`)
  }
  const preferred = detectBackend()
  for (const backend of [...new Set<Backend>([preferred, 'cpu'])]) {
    const dir = join(buildDir(backend), 'lib')
    if (hasWhisper(dir)) {
      log(`whisper.cpp ${backend} build from the cache (${dir})`)
      return { libDir: dir, headerDirs, source: `cache (${backend})` }
    }
  }
  log(`no whisper.cpp build yet: building one (${preferred}); this takes a few minutes, once`)
  building ??= buildEngine({ backend: preferred, log })
  const dir = await building
  return { libDir: dir, headerDirs, source: `built (${preferred})` }
}
