import { cacheRoot, cmakeGenerator, detectBackend, relocatableRpathFlags, runBuildStep, type Backend } from '@cy/native'
import { existsSync, mkdirSync, readdirSync, copyFileSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { SOURCE_PACKAGE, WHISPER_CPP_VERSION } from './whisper-version.ts'

export { buildProgress, cacheRoot, detectBackend, type Backend } from '@cy/native'

/** The folder a build of this version and backend lives in (lib/ and bin/ inside). */
export function buildDir(backend: Backend): string {
  return join(cacheRoot(), 'whisper', `${WHISPER_CPP_VERSION}-${backend}`)
}

/** The whisper.cpp source tree bundled in the `nodejs-whisper` package. */
export function bundledSource(): string {
  for (const base of [join(process.cwd(), 'package.json'), import.meta.path]) {
    try {
      const root = dirname(createRequire(base).resolve(`${SOURCE_PACKAGE}/package.json`))
      const source = join(root, 'cpp', 'whisper.cpp')
      if (existsSync(join(source, 'CMakeLists.txt'))) return source
    } catch {
      // not installed from there
    }
  }
  throw new Error(`The whisper.cpp sources were not found: install ${SOURCE_PACKAGE}, or pass --src DIR`)
}

/** The headers the shim is compiled against: those of the bundled (pinned) sources. */
export function shimHeaderDirs(source = bundledSource()): string[] {
  return [join(source, 'include'), join(source, 'ggml', 'include')]
}

function sourceVersion(source: string): string | undefined {
  return /project\("whisper\.cpp" VERSION ([0-9.]+)\)/.exec(readFileSync(join(source, 'CMakeLists.txt'), 'utf8'))?.[1]
}

const FLAGS: Record<Backend, string[]> = {
  cpu: [],
  cuda: ['-DGGML_CUDA=ON'],
  metal: ['-DGGML_METAL=ON', '-DGGML_METAL_EMBED_LIBRARY=ON'],
  vulkan: ['-DGGML_VULKAN=ON'],
}

const run = (command: string[], log: (line: string) => void, onPercent?: (percent: number) => void) =>
  runBuildStep(command, { label: 'whisper.cpp', log, ...(onPercent ? { onPercent } : {}) })

/**
 * Compiles whisper.cpp as shared libraries (and whisper-cli, the reference for tests and benchmarks)
 * with CMake, into the cache folder for this version and backend. About two minutes on two cores.
 */
export async function buildEngine(
  options: { backend?: Backend; source?: string; log?: (line: string) => void; onPercent?: (percent: number) => void } = {},
): Promise<string> {
  const log = options.log ?? ((line: string) => console.error(`[whisper] ${line}`))
  const backend = options.backend ?? detectBackend()
  const source = options.source ?? bundledSource()
  const version = sourceVersion(source)
  if (!options.source && version !== WHISPER_CPP_VERSION) throw new Error(`The bundled whisper.cpp is ${version}; this adapter is pinned to ${WHISPER_CPP_VERSION}`)
  if (!Bun.which('cmake')) throw new Error('Building whisper.cpp needs cmake and a C++ compiler (apt-get install cmake g++)')
  const out = buildDir(backend)
  const work = join(out, 'build')
  mkdirSync(work, { recursive: true })
  log(`building whisper.cpp ${version} (${backend}) from ${source} into ${out}`)
  const generator = cmakeGenerator()
  await run(
    [
      'cmake', '-S', source, '-B', work, ...generator,
      '-DCMAKE_BUILD_TYPE=Release', '-DBUILD_SHARED_LIBS=ON', '-DWHISPER_BUILD_TESTS=OFF', '-DWHISPER_BUILD_EXAMPLES=ON',
      '-DWHISPER_BUILD_SERVER=OFF', '-DWHISPER_SDL2=OFF', '-DWHISPER_CURL=OFF', '-DGGML_NATIVE=OFF', ...FLAGS[backend],
      // lib/ for the libraries, bin/ for whisper-cli.
      ...relocatableRpathFlags(),
    ],
    log,
  )
  const jobs = String(navigator.hardwareConcurrency || 2)
  await run(['cmake', '--build', work, '--config', 'Release', '-j', jobs, '--target', 'whisper', 'whisper-cli'], log, options.onPercent)
  for (const folder of ['lib', 'bin']) mkdirSync(join(out, folder), { recursive: true })
  const built = join(work, 'bin')
  for (const name of readdirSync(built)) {
    const target = /\.(so|dylib|dll)(\.|$)/.test(name) ? 'lib' : name.startsWith('whisper-cli') ? 'bin' : undefined
    if (target) copyFileSync(join(built, name), join(out, target, name))
  }
  log(`built ${join(out, 'lib')}`)
  return join(out, 'lib')
}
