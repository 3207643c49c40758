import { cacheRoot, withBuildLock } from '@cy/native'
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { BINARY_PACKAGES_VERSION, LLAMA_CPP_VERSION } from './llama-version.ts'

async function run(command: string[], log: (line: string) => void, cwd?: string): Promise<string> {
  log(`$ ${command.join(' ')}`)
  const child = Bun.spawn(command, { cwd, stdout: 'pipe', stderr: 'pipe' })
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()])
  if (code !== 0) throw new Error(`${command[0]} failed (${code}):\n${(stdout + stderr).trim().split('\n').slice(-15).join('\n')}`)
  return stdout
}

/** node-llama-cpp's git bundle of llama.cpp: from an installed node-llama-cpp, else its npm package fetched into `cache`. */
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
  if (!Bun.which('npm')) throw new Error('node-llama-cpp is not installed and npm is not on PATH to fetch its llama.cpp sources')
  // The package whose binaries the adapter loads carries the same llama.cpp release as a git bundle.
  const file = (await run(['npm', 'pack', `node-llama-cpp@${BINARY_PACKAGES_VERSION}`, '--silent'], log, cache)).trim().split('\n').at(-1)!
  await run(['tar', 'xzf', file, 'package/llama'], log, cache)
  rmSync(join(cache, file), { force: true })
  return unpacked
}

/**
 * The llama.cpp sources of the pinned version (what the prebuilt libllama was built from): CY_LLAMA_SRC,
 * else a checkout in the cache, else one cloned now from node-llama-cpp's bundle (npm pack when it is
 * not installed). Builds of llama.cpp's parts (libmtmd, llama-server) take them from here.
 */
export async function llamaSources(log: (line: string) => void = () => {}): Promise<string> {
  if (process.env.CY_LLAMA_SRC) return process.env.CY_LLAMA_SRC
  const cache = join(cacheRoot(), 'llama.cpp', LLAMA_CPP_VERSION)
  const source = join(cache, 'src')
  if (existsSync(join(source, 'CMakeLists.txt'))) return source
  return withBuildLock(source, async () => {
    if (existsSync(join(source, 'CMakeLists.txt'))) return source
    if (!Bun.which('git')) throw new Error("llama.cpp's sources come from a git bundle: install git (apt-get install git)")
    mkdirSync(cache, { recursive: true })
    // Cloned beside and renamed: an interrupted clone never looks like a checkout.
    const partial = `${source}.partial`
    rmSync(partial, { recursive: true, force: true })
    await run(['git', 'clone', '--quiet', await sourceBundle(cache, log), partial], log)
    renameSync(partial, source)
    return source
  })
}
