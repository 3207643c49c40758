import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { buildDir, buildEngine, bundledSource, detectBackend, type Backend } from './engine-build.ts'

export interface ResolvedWhisper {
  libDir: string
  /** Where the headers for the shim are (the sources the library was built from). */
  headerDirs: string[]
  source: string
}

const hasWhisper = (dir: string) => existsSync(dir) && readdirSync(dir).some((name) => name.startsWith('libwhisper'))


/** One build at a time per backend, across processes too (a test run and a benchmark may start together). */
async function withBuildLock<T>(backend: Backend, work: () => Promise<T>): Promise<T> {
  const lock = `${buildDir(backend)}.lock`
  mkdirSync(dirname(lock), { recursive: true })
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      // A lock older than the slowest build belongs to a process that died.
      if (Date.now() - statSync(lock).mtimeMs > 30 * 60 * 1000) rmSync(lock, { recursive: true, force: true })
      await Bun.sleep(500)
    }
  }
  try {
    return await work()
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

const builds = new Map<Backend, Promise<string>>()

/**
 * Finds libwhisper, in order, each step logged: (1) an explicit path (`libPath`, or CY_WHISPER_LIB: the
 * library file or its folder); (2) a build this package made and cached, best backend first; (3) building
 * one now (a few minutes, once per version and backend). A GPU build that fails (a toolkit without its
 * libraries, say) falls back to CPU; the error lists every attempt when nothing works.
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
  const backends = [...new Set<Backend>([detectBackend(), 'cpu'])]
  for (const backend of backends) {
    const dir = join(buildDir(backend), 'lib')
    if (hasWhisper(dir)) {
      log(`whisper.cpp ${backend} build from the cache (${dir})`)
      return { libDir: dir, headerDirs, source: `cache (${backend})` }
    }
  }
  const failures: string[] = []
  for (const backend of backends) {
    try {
      let build = builds.get(backend)
      if (!build) {
        build = withBuildLock(backend, async () => {
          const dir = join(buildDir(backend), 'lib')
          if (hasWhisper(dir)) return dir
          log(`no whisper.cpp build yet: building one (${backend}); this takes a few minutes, once`)
          return buildEngine({ backend, log })
        })
        builds.set(backend, build)
      }
      const dir = await build
      return { libDir: dir, headerDirs, source: `built (${backend})` }
    } catch (error) {
      builds.delete(backend)
      const reason = `${backend} build: ${(error as Error).message.split('\n').slice(0, 3).join(' ')}`
      failures.push(reason)
      log(`failed: ${reason}`)
    }
  }
  throw new Error(`No usable whisper.cpp library. Tried:\n  ${failures.join('\n  ')}\nSet CY_WHISPER_LIB to a libwhisper built from whisper.cpp 1.9.1, or install cmake and a C++ compiler.`)
}
