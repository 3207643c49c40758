import { existsSync, mkdirSync, readdirSync, copyFileSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { SOURCE_PACKAGE, WHISPER_CPP_VERSION } from './whisper-version.ts'

export type Backend = 'cpu' | 'cuda' | 'metal' | 'vulkan'

/** Where built engines are kept: CY_CACHE_DIR, else XDG_CACHE_HOME/cy, else ~/.cache/cy. */
export function cacheRoot(): string {
  return process.env.CY_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cy')
}

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

/** The best backend this machine can build: CUDA when nvcc is there, Metal on macOS, else CPU. */
export function detectBackend(): Backend {
  if (process.platform === 'darwin') return 'metal'
  if (Bun.which('nvcc') || existsSync('/usr/local/cuda/bin/nvcc')) return 'cuda'
  return 'cpu'
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

/** The last progress a chunk of build output shows, in percent: make's "[ 40%]" or ninja's "[12/345]". */
export function buildProgress(text: string): number | undefined {
  const last = [...text.matchAll(/\[\s*(\d+)%\]|\[(\d+)\/(\d+)\]/g)].at(-1)
  if (!last) return undefined
  return last[1] !== undefined ? Number(last[1]) : Math.floor((100 * Number(last[2])) / Number(last[3]))
}

/** Runs a build step; its progress ("[ 40%]" lines, every tenth) goes to the log, so a long build is seen moving. */
async function run(command: string[], log: (line: string) => void, onPercent?: (percent: number) => void): Promise<void> {
  log(`$ ${command.join(' ')}`)
  const child = Bun.spawn(command, { stdout: 'pipe', stderr: 'pipe' })
  let stdout = ''
  let shown = -1
  const reading = (async () => {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream()) as unknown as AsyncIterable<string>) {
      stdout += text
      const percent = buildProgress(text)
      if (percent !== undefined) onPercent?.(percent)
      if (percent !== undefined && Math.floor(percent / 10) > shown) {
        shown = Math.floor(percent / 10)
        log(`building whisper.cpp: ${percent}%`)
      }
    }
  })()
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text(), reading])
  if (code !== 0) throw new Error(`${command[0]} failed (${code}):\n${(stdout + stderr).trim().split('\n').slice(-15).join('\n')}`)
}

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
  const generator = Bun.which('ninja') ? ['-G', 'Ninja'] : []
  await run(
    [
      'cmake', '-S', source, '-B', work, ...generator,
      '-DCMAKE_BUILD_TYPE=Release', '-DBUILD_SHARED_LIBS=ON', '-DWHISPER_BUILD_TESTS=OFF', '-DWHISPER_BUILD_EXAMPLES=ON',
      '-DWHISPER_BUILD_SERVER=OFF', '-DWHISPER_SDL2=OFF', '-DWHISPER_CURL=OFF', '-DGGML_NATIVE=OFF', ...FLAGS[backend],
      // The libraries find each other beside themselves once copied out of the build folder.
      // (lib/ for the libraries, bin/ for whisper-cli: each looks beside itself and in ../lib.)
      '-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON',
      `-DCMAKE_INSTALL_RPATH=${process.platform === 'darwin' ? '@loader_path;@loader_path/../lib' : '$ORIGIN;$ORIGIN/../lib'}`,
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
