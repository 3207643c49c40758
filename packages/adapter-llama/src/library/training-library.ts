import { cacheRoot, runBuildStep, withBuildLock } from '@cy/native'
import { readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { findLibrary } from '../native/llama-native.ts'
import { llamaSources } from './llama-sources.ts'
import { LLAMA_CPP_VERSION } from './llama-version.ts'

const STAMP = 'training-library.json'

/** Where the native CPU build of the pinned llama.cpp for training goes (`engines:build llama-training`). */
export function trainingLibraryDir(): string {
  return join(cacheRoot(), 'llama-training', `${LLAMA_CPP_VERSION}-${process.platform}-${process.arch}`)
}

/** The folder of its shared libraries when it is built for the pinned version, else undefined. */
export function builtTrainingLibrary(dir = trainingLibraryDir()): string | undefined {
  const bin = join(dir, 'build', 'bin')
  try {
    const stamp = JSON.parse(readFileSync(join(dir, STAMP), 'utf8')) as { version?: string }
    return stamp.version === LLAMA_CPP_VERSION && findLibrary(bin, 'libllama') ? bin : undefined
  } catch {
    return undefined
  }
}

/**
 * The training engine's llama.cpp folder: the `trainingLibDir` option, else CY_LLAMA_TRAINING_LIB_DIR, else
 * the native build when there is one, else undefined (inference's library). llama.cpp's optimizer runs on the
 * CPU, where a build for this machine trains faster than the prebuilt packages (bench:training), which
 * inference keeps for their GPU variants.
 */
export function trainingLibraryChoice(option: unknown, env = process.env.CY_LLAMA_TRAINING_LIB_DIR, built: () => string | undefined = builtTrainingLibrary): string | undefined {
  if (typeof option === 'string' && option) return option
  if (env) return env
  return built()
}

/**
 * Builds llama.cpp's shared libraries (libllama, libggml with its CPU backend) from the pinned sources for this
 * machine's CPU (GGML_NATIVE, OpenMP where the compiler has it) with CMake, once, into trainingLibraryDir();
 * returns the folder of the libraries. A few minutes on two cores.
 */
export async function buildTrainingLibrary(log: (line: string) => void): Promise<string> {
  const dir = trainingLibraryDir()
  const done = builtTrainingLibrary(dir)
  if (done) return done
  return withBuildLock(dir, async () => {
    const again = builtTrainingLibrary(dir)
    if (again) return again
    const missing = ['cmake', 'c++'].filter((tool) => !Bun.which(tool))
    if (missing.length) throw new Error(`building llama.cpp for training needs ${missing.join(', ')} (apt-get install cmake g++)`)
    const source = await llamaSources(log)
    const build = join(dir, 'build')
    log(`building llama.cpp ${LLAMA_CPP_VERSION} for this CPU (training) from ${source} in ${build}`)
    const step = { label: 'llama.cpp (training)', log }
    await runBuildStep(
      [
        'cmake', '-S', source, '-B', build, '-DCMAKE_BUILD_TYPE=Release', '-DBUILD_SHARED_LIBS=ON', '-DGGML_NATIVE=ON', '-DLLAMA_CURL=OFF',
        '-DLLAMA_BUILD_TESTS=OFF', '-DLLAMA_BUILD_EXAMPLES=OFF', '-DLLAMA_BUILD_TOOLS=OFF', '-DLLAMA_BUILD_SERVER=OFF',
      ],
      step,
    )
    await runBuildStep(['cmake', '--build', build, '--config', 'Release', '--target', 'llama', '-j', String(availableParallelism())], step)
    const bin = join(build, 'bin')
    if (!findLibrary(bin, 'libllama')) throw new Error(`the build finished but ${bin} has no libllama`)
    writeFileSync(join(dir, STAMP), JSON.stringify({ version: LLAMA_CPP_VERSION }))
    return bin
  })
}

