/**
 * llama.cpp's own `llama-server`, built once from the sources node-llama-cpp bundles for the llama.cpp
 * version the adapter is pinned to, and cached in ~/.cache/cy/llama-server/<version>: the reference the
 * side-by-side benchmark runs against. Usage: bun bench/llama/build-llama-server.ts [--src DIR]
 */
import { BINARY_PACKAGES_VERSION, LLAMA_CPP_VERSION } from '../../packages/adapter-llama/src/library/llama-version.ts'
import { existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'

function cacheDir(): string {
  const root = process.env.CY_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cy')
  return join(root, 'llama-server', LLAMA_CPP_VERSION)
}

async function run(command: string[], log: (line: string) => void, cwd?: string): Promise<string> {
  log(`$ ${command.join(' ')}`)
  const child = Bun.spawn(command, { cwd, stdout: 'pipe', stderr: 'pipe' })
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()])
  if (code !== 0) throw new Error(`${command[0]} failed (${code}):\n${(stdout + stderr).trim().split('\n').slice(-15).join('\n')}`)
  return stdout
}

/** node-llama-cpp's git bundle of llama.cpp: from an installed node-llama-cpp, else its npm package fetched into the cache. */
async function sourceBundle(cache: string, log: (line: string) => void): Promise<string> {
  for (const base of [join(process.cwd(), 'package.json'), import.meta.path]) {
    try {
      const bundle = join(dirname(createRequire(base).resolve('node-llama-cpp/package.json')), 'llama', 'gitRelease.bundle')
      if (existsSync(bundle)) return bundle
    } catch {
      // not installed from there
    }
  }
  const unpacked = join(cache, 'package', 'llama', 'gitRelease.bundle')
  if (existsSync(unpacked)) return unpacked
  if (!Bun.which('npm')) throw new Error('node-llama-cpp is not installed and npm is not on PATH to fetch its sources')
  // The package whose binaries the adapter uses carries the same llama.cpp release as a git bundle.
  const file = (await run(['npm', 'pack', `node-llama-cpp@${BINARY_PACKAGES_VERSION}`, '--silent'], log, cache)).trim().split('\n').at(-1)!
  await run(['tar', 'xzf', file, 'package/llama'], log, cache)
  return unpacked
}

/** Why this machine cannot build llama-server, or undefined when it can. */
export function missingTools(): string | undefined {
  const missing = ['cmake', 'git', 'c++'].filter((tool) => !Bun.which(tool))
  return missing.length > 0 ? `building llama-server needs ${missing.join(', ')} (apt-get install cmake git g++)` : undefined
}

/** The path of a llama-server binary: CY_LLAMA_SERVER, else the cached build, else one built now (several minutes on two cores). */
export async function llamaServer(options: { source?: string; log?: (line: string) => void } = {}): Promise<string> {
  const log = options.log ?? ((line: string) => console.error(`[llama-server] ${line}`))
  if (process.env.CY_LLAMA_SERVER) return process.env.CY_LLAMA_SERVER
  const cache = cacheDir()
  const binary = join(cache, 'src', 'build', 'bin', 'llama-server')
  if (existsSync(binary)) return binary
  const missing = missingTools()
  if (missing) throw new Error(missing)
  mkdirSync(cache, { recursive: true })
  const source = join(cache, 'src')
  if (!existsSync(join(source, 'CMakeLists.txt'))) {
    if (options.source) await run(['git', 'clone', '--quiet', options.source, source], log)
    else await run(['git', 'clone', '--quiet', await sourceBundle(cache, log), source], log)
  }
  log(`building llama-server (llama.cpp ${LLAMA_CPP_VERSION}) in ${source}`)
  const build = join(source, 'build')
  await run(['cmake', '-S', source, '-B', build, '-DCMAKE_BUILD_TYPE=Release', '-DLLAMA_CURL=OFF', '-DGGML_NATIVE=ON', '-DLLAMA_BUILD_TESTS=OFF'], log)
  await run(['cmake', '--build', build, '--config', 'Release', '--target', 'llama-server', '-j', String(navigator.hardwareConcurrency || 2)], log)
  if (!existsSync(binary)) throw new Error(`the build finished but ${binary} is not there`)
  return binary
}

if (import.meta.main) {
  const at = Bun.argv.indexOf('--src')
  console.log(await llamaServer({ source: at > 0 ? Bun.argv[at + 1] : undefined }))
}
