import { resolveEngineLibrary, type LibraryCandidate } from '@cy/native'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { buildDir, buildEngine, detectBackend, shimHeaderDirs, type Backend } from './engine-build.ts'
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

/** A build under way in this process, and the loads waiting on it that want its percent. */
const builds = new Map<Backend, { done: Promise<string>; listeners: Set<(percent: number) => void> }>()

/** Builds once per backend in this process (and waits for another process's build of it). */
function build(backend: Backend, log: (line: string) => void, onPercent?: (percent: number) => void): Promise<string> {
  let running = builds.get(backend)
  if (!running) {
    const listeners = new Set<(percent: number) => void>()
    const done = withBuildLock(backend, async () => {
      const dir = join(buildDir(backend), 'lib')
      if (hasWhisper(dir)) return dir
      // Said even when quiet: a model load that takes minutes must say why.
      console.error(`[whisper] building whisper.cpp ${WHISPER_CPP_VERSION} (${backend}) for its first use: a few minutes, once (cached in ${buildDir(backend)})`)
      return buildEngine({ backend, log, onPercent: (percent) => listeners.forEach((listener) => listener(percent)) })
    })
    running = { done, listeners }
    builds.set(backend, running)
    done.then(() => listeners.clear(), () => builds.delete(backend))
  }
  if (onPercent) running.listeners.add(onPercent)
  return running.done
}

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
  const candidates: LibraryCandidate[] = []
  const explicit = libPath ?? process.env.CY_WHISPER_LIB
  if (explicit) candidates.push({ source: libPath ? 'libPath' : 'CY_WHISPER_LIB', dir: /\.(so|dylib|dll)(\.|$)/.test(explicit) ? dirname(explicit) : explicit })
  const backends = [...new Set<Backend>([detectBackend(), 'cpu'])]
  for (const backend of backends) {
    const dir = join(buildDir(backend), 'lib')
    candidates.push({ source: `cache (${backend})`, dir: hasWhisper(dir) ? dir : undefined })
  }
  for (const backend of backends) candidates.push({ source: `build (${backend})`, dir: () => build(backend, log, onPercent) })
  const found = await resolveEngineLibrary(
    {
      engine: 'whisper.cpp',
      version: WHISPER_CPP_VERSION,
      smokeScript: join(import.meta.dir, 'smoke-test.ts'),
      candidates,
      hint: `Set CY_WHISPER_LIB to a libwhisper built from whisper.cpp ${WHISPER_CPP_VERSION}, or install cmake and a C++ compiler for the adapter to build one.`,
    },
    log,
  )
  return { libDir: found.dir, headerDirs: shimHeaderDirs(), source: found.source, version: found.version }
}
