import { cacheRoot, withBuildLock } from '@cy/native'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename, join } from 'node:path'
import { findLibrary } from '../native/llama-native.ts'
import { MTMD_FILE } from '../native/mtmd-symbols.ts'
import { llamaSources } from './llama-sources.ts'
import { LLAMA_CPP_VERSION } from './llama-version.ts'

const STAMP = 'mtmd-build.json'

/** What a libmtmd build was made from and linked with: a build for other libraries is made again. */
interface MtmdStamp {
  version: string
  /** The libllama/libggml file names it links to (their sonames): the prebuilt set it is ABI-matched with. */
  linkedWith: string[]
}

/** The llama.cpp libraries in a folder that libmtmd links to. */
export function llamaLinkSet(llamaDir: string): string[] {
  const names = [findLibrary(llamaDir, 'libllama'), findLibrary(llamaDir, 'libggml'), findLibrary(llamaDir, 'libggml-base')]
  if (names.some((name) => !name)) throw new Error(`${llamaDir} lacks libllama, libggml or libggml-base`)
  return names as string[]
}

/** Where libmtmd is built for this version and platform. */
export function mtmdBuildDir(): string {
  return join(cacheRoot(), 'mtmd', `${LLAMA_CPP_VERSION}-${process.platform}-${process.arch}`)
}

/** Whether `dir` holds a libmtmd of the pinned version linked with the libraries in `llamaDir`. */
export function isMtmdBuilt(dir: string, llamaDir: string): boolean {
  try {
    const stamp = JSON.parse(readFileSync(join(dir, STAMP), 'utf8')) as MtmdStamp
    return existsSync(join(dir, MTMD_FILE)) && stamp.version === LLAMA_CPP_VERSION && stamp.linkedWith.join() === llamaLinkSet(llamaDir).join()
  } catch {
    return false
  }
}

/** The sources of the `mtmd` library target, as the pinned version's CMakeLists lists them. */
function mtmdSources(source: string): string[] {
  const cmake = readFileSync(join(source, 'tools', 'mtmd', 'CMakeLists.txt'), 'utf8')
  const block = /add_library\(mtmd\s([\s\S]*?)\)/.exec(cmake)?.[1]
  if (!block) throw new Error(`no mtmd library target in ${source}/tools/mtmd/CMakeLists.txt`)
  return block.split(/\s+/).filter((file) => file.endsWith('.cpp')).map((file) => join(source, 'tools', 'mtmd', file))
}

async function compile(command: string[]): Promise<void> {
  const child = Bun.spawn(command, { stdout: 'pipe', stderr: 'pipe' })
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
  if (code !== 0) throw new Error(`${command[0]} failed (${code}) on ${command.at(-3)}:\n${stderr.trim().split('\n').slice(-15).join('\n')}`)
}

/**
 * Builds libmtmd (llama.cpp's multimodal library: the CLIP-style encoders, image preprocessing, the
 * media chunks) from the pinned version's sources, compiled directly (no CMake: it needs none of
 * llama.cpp's other targets) and linked against the prebuilt libllama and libggml in `llamaDir`. Same
 * sources and headers, so the same ABI; and it names them by their sonames, so in a process that has
 * loaded those libraries it uses them: one llama.cpp per process. About a minute on two cores.
 */
export async function buildMtmd(llamaDir: string, log: (line: string) => void = () => {}): Promise<string> {
  const dir = mtmdBuildDir()
  return withBuildLock(dir, async () => {
    if (isMtmdBuilt(dir, llamaDir)) return dir
    if (process.platform === 'win32') throw new Error('building libmtmd on Windows is not supported: point CY_MTMD_LIB at a libmtmd built with llama.cpp')
    const cxx = Bun.which('c++') ?? Bun.which('g++') ?? Bun.which('clang++')
    const cc = Bun.which('cc') ?? Bun.which('gcc') ?? Bun.which('clang')
    if (!cxx || !cc) throw new Error('building libmtmd needs a C++ compiler (apt-get install g++)')
    const source = await llamaSources(log)
    const link = llamaLinkSet(llamaDir)
    console.error(`cy: building libmtmd (llama.cpp ${LLAMA_CPP_VERSION}'s multimodal library) for ${llamaDir}: about a minute, once`)
    const partial = `${dir}.partial`
    rmSync(partial, { recursive: true, force: true })
    const objects = join(partial, 'obj')
    mkdirSync(objects, { recursive: true })
    const flags = ['-O2', '-fPIC', '-DNDEBUG', '-DLLAMA_BUILD', '-DLLAMA_SHARED', '-DGGML_SHARED', '-w']
    const include = ['tools/mtmd', 'include', 'ggml/include', 'vendor', 'vendor/hash'].map((folder) => `-I${join(source, folder)}`)
    const hash = join(source, 'vendor', 'hash')
    const jobs = [
      ...[...mtmdSources(source), join(hash, 'hash.cpp')].map((file) => [cxx, '-std=c++17', ...flags, ...include, '-c', file, '-o']),
      // sha1.c is compiled as C++ upstream too.
      [cxx, '-x', 'c++', ...flags, ...include, '-c', join(hash, 'sha1', 'sha1.c'), '-o'],
      ...['xxhash/xxhash.c', 'sha256/sha256.c'].map((file) => [cc, ...flags, ...include, '-c', join(hash, file), '-o']),
    ].map((command, i) => [...command, join(objects, `${i}-${basename(command.at(-2)!)}.o`)])
    let next = 0
    let done = 0
    let shown = -1
    const worker = async () => {
      while (next < jobs.length) {
        await compile(jobs[next++]!)
        const percent = Math.floor((100 * ++done) / jobs.length)
        if (Math.floor(percent / 10) > shown) log(`building libmtmd: ${percent}%`), (shown = Math.floor(percent / 10))
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, worker))
    const output = join(partial, MTMD_FILE)
    const libraries = link.map((name) => join(llamaDir, name))
    const linkFlags =
      process.platform === 'darwin'
        ? ['-dynamiclib', '-install_name', `@rpath/${MTMD_FILE}`, ...libraries]
        : ['-shared', `-Wl,-soname,${MTMD_FILE}`, `-L${llamaDir}`, ...link.map((name) => `-l:${name}`), '-lpthread']
    // The rpath lets the library load on its own (the smoke test); in the engine, libllama is loaded first.
    await compile([cxx, ...jobs.map((job) => job.at(-1)!), ...linkFlags, `-Wl,-rpath,${llamaDir}`, '-o', output])
    rmSync(objects, { recursive: true, force: true })
    writeFileSync(join(partial, STAMP), JSON.stringify({ version: LLAMA_CPP_VERSION, linkedWith: link } satisfies MtmdStamp))
    rmSync(dir, { recursive: true, force: true })
    renameSync(partial, dir)
    log(`libmtmd built in ${dir}`)
    return dir
  })
}
