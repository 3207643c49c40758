import { cacheRoot, cmakeGenerator, detectBackend, relocatableRpathFlags, runBuildStep, type Backend } from '@cy/native'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { writeBuildStamp } from './build-stamp.ts'
import { isPinnedCommit, SD_CPP_COMMIT, SD_CPP_REPOSITORY, SD_CPP_SHORT_COMMIT } from './sd-version.ts'

/** This repository's root (packages/adapter-sdxl/src/library is four folders down). */
const REPO_ROOT = resolve(import.meta.dir, '../../../..')

/** The folder a build of the pinned commit for `backend` lives in: lib/, bin/, include/, share/ inside. */
export function buildDir(backend: Backend): string {
  return join(cacheRoot(), 'sd', `${SD_CPP_SHORT_COMMIT}-${backend}`)
}

/** The header the shim is compiled against: the copy a build keeps, so a cached build is self-contained. */
export function shimHeaderDirs(libDir: string): string[] {
  const beside = join(libDir, '..', 'include')
  return existsSync(join(beside, 'stable-diffusion.h')) ? [beside] : [join(defaultSource() ?? REPO_ROOT, 'include')]
}

/**
 * stable-diffusion.cpp's CLIP merges (for the tokenizer that counts prompt tokens): the copy a build
 * keeps in share/, else the one in the sources.
 */
export function clipMergesFile(libDir: string): string {
  const candidates = [join(libDir, '..', 'share', 'clip_merges.hpp')]
  const source = defaultSource()
  if (source) candidates.push(join(source, 'src', 'tokenizers', 'vocab', 'clip_merges.hpp'))
  const found = candidates.find((file) => existsSync(file))
  if (!found) throw new Error(`No clip_merges.hpp beside ${libDir} (in ../share/) nor in the sources: copy stable-diffusion.cpp's src/tokenizers/vocab/clip_merges.hpp there, or set CY_SD_SRC`)
  return found
}

/** The sources to build from: `--src`, else CY_SD_SRC, else (in this repository) ../shared/vendor/stable-diffusion.cpp. */
export function defaultSource(): string | undefined {
  if (process.env.CY_SD_SRC) return process.env.CY_SD_SRC
  const vendored = resolve(REPO_ROOT, '../shared/vendor/stable-diffusion.cpp')
  return existsSync(join(vendored, 'CMakeLists.txt')) ? vendored : undefined
}

const NO_SOURCES = `Building stable-diffusion.cpp needs its sources: pass --src DIR or set CY_SD_SRC to a clone at the pinned commit, with its ggml submodule:
  git clone --recursive ${SD_CPP_REPOSITORY} && git -C stable-diffusion.cpp checkout ${SD_CPP_COMMIT} && git -C stable-diffusion.cpp submodule update --init`

/**
 * The commit a source tree is at: git's HEAD in a clone, else the commit its VENDOR.md names (a vendored
 * copy without .git). Undefined when neither tells.
 */
export function sourceCommit(source: string): string | undefined {
  if (existsSync(join(source, '.git'))) {
    const git = Bun.spawnSync(['git', '-C', source, 'rev-parse', 'HEAD'], { stdout: 'pipe', stderr: 'ignore' })
    if (git.exitCode === 0) return git.stdout.toString().trim()
  }
  const vendor = join(source, 'VENDOR.md')
  if (existsSync(vendor)) return /commit `([0-9a-f]{40})`/.exec(readFileSync(vendor, 'utf8'))?.[1]
  return undefined
}

const FLAGS: Record<Backend, string[]> = {
  cpu: [],
  cuda: ['-DSD_CUDA=ON'],
  metal: ['-DSD_METAL=ON', '-DGGML_METAL_EMBED_LIBRARY=ON'],
  vulkan: ['-DSD_VULKAN=ON'],
}

export interface BuildOptions {
  backend?: Backend
  source?: string
  log?: (line: string) => void
  onPercent?: (percent: number) => void
  /**
   * For a library that runs on other CPUs than this one (a container image): ggml's generic x86/ARM
   * variants instead of this CPU's instruction set (GGML_NATIVE off). Off by default: a cache is per machine.
   */
  portable?: boolean
}

/**
 * Compiles stable-diffusion.cpp as one shared library (ggml linked in) and sd-cli (the reference for
 * tests and benchmarks) with CMake, out of tree, into the cache folder for the pinned commit and
 * `backend`. About 7-9 minutes on two cores. Returns the lib/ folder.
 */
export async function buildEngine(options: BuildOptions = {}): Promise<string> {
  const log = options.log ?? ((line: string) => console.error(`[sdxl] ${line}`))
  const backend = options.backend ?? detectBackend()
  const source = options.source ?? defaultSource()
  if (!source || !existsSync(join(source, 'CMakeLists.txt'))) throw new Error(source ? `${source} holds no CMakeLists.txt.\n${NO_SOURCES}` : NO_SOURCES)
  if (!existsSync(join(source, 'ggml', 'CMakeLists.txt'))) throw new Error(`${source} lacks the ggml submodule (git submodule update --init).\n${NO_SOURCES}`)
  const commit = sourceCommit(source)
  if (!commit) throw new Error(`Cannot tell which commit ${source} is at (no .git, no VENDOR.md): this adapter is pinned to ${SD_CPP_COMMIT}.\n${NO_SOURCES}`)
  if (!isPinnedCommit(commit)) throw new Error(`${source} is at ${commit}; this adapter is pinned to ${SD_CPP_COMMIT}.\n${NO_SOURCES}`)
  if (!Bun.which('cmake')) throw new Error('Building stable-diffusion.cpp needs cmake and a C++ compiler (apt-get install cmake g++)')
  const out = buildDir(backend)
  const work = join(out, 'build')
  mkdirSync(work, { recursive: true })
  log(`building stable-diffusion.cpp ${SD_CPP_SHORT_COMMIT} (${backend}) from ${source} into ${out}`)
  const run = (command: string[], onPercent?: (percent: number) => void) =>
    runBuildStep(command, { label: 'stable-diffusion.cpp', log, ...(onPercent ? { onPercent } : {}) })
  await run([
    'cmake', '-S', source, '-B', work, ...cmakeGenerator(),
    '-DCMAKE_BUILD_TYPE=Release', '-DSD_BUILD_SHARED_LIBS=ON', '-DSD_BUILD_EXAMPLES=ON', ...FLAGS[backend],
    ...(options.portable ? ['-DGGML_NATIVE=OFF'] : []),
    // lib/ for the library, bin/ for sd-cli.
    ...relocatableRpathFlags(),
  ])
  const jobs = String(navigator.hardwareConcurrency || 2)
  await run(['cmake', '--build', work, '--config', 'Release', '-j', jobs, '--target', 'stable-diffusion', 'sd-cli'], options.onPercent)
  for (const folder of ['lib', 'bin', 'include', 'share']) mkdirSync(join(out, folder), { recursive: true })
  const built = join(work, 'bin')
  for (const name of readdirSync(built)) {
    const target = /\.(so|dylib|dll)(\.|$)/.test(name) ? 'lib' : name.startsWith('sd-cli') ? 'bin' : undefined
    if (target) copyFileSync(join(built, name), join(out, target, name))
  }
  // The shim compiles against this header, so a cached build needs no sources; the CLIP merges are what
  // the tokenizer counts prompt tokens with.
  copyFileSync(join(source, 'include', 'stable-diffusion.h'), join(out, 'include', 'stable-diffusion.h'))
  copyFileSync(join(source, 'src', 'tokenizers', 'vocab', 'clip_merges.hpp'), join(out, 'share', 'clip_merges.hpp'))
  // Written last: a build cut short leaves no stamp, and is not taken for a finished one.
  writeBuildStamp(join(out, 'lib'), { commit: SD_CPP_COMMIT, backend, source, builtAt: new Date().toISOString() })
  log(`built ${join(out, 'lib')}`)
  return join(out, 'lib')
}
