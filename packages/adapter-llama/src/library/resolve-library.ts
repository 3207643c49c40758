import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { BINARY_PACKAGES_VERSION, isPinnedVersion, LLAMA_CPP_VERSION } from './llama-version.ts'

export interface ResolvedLibrary {
  dir: string
  /** Where it came from ("CY_LLAMA_LIB_DIR", "@node-llama-cpp/linux-x64-cuda"). */
  source: string
  version: string
  /** ggml devices, best first ("CUDA0", "CPU"). */
  devices: string[]
}

/** Thrown when no library works; says what was tried and why each failed. */
export class NoLibraryFoundError extends Error {
  override readonly name = 'NoLibraryFoundError'
}

/** The binary packages for this platform, best GPU first, CPU last. */
export function binaryPackages(platform = process.platform, arch = process.arch): string[] {
  const key = `${platform}-${arch}`
  const table: Record<string, string[]> = {
    'linux-x64': ['linux-x64-cuda', 'linux-x64-cuda-ext', 'linux-x64-vulkan', 'linux-x64'],
    'linux-arm64': ['linux-arm64'],
    'darwin-arm64': ['mac-arm64-metal'],
    'darwin-x64': ['mac-x64'],
    'win32-x64': ['win-x64-cuda', 'win-x64-vulkan', 'win-x64'],
    'win32-arm64': ['win-arm64'],
  }
  return (table[key] ?? []).map((name) => `@node-llama-cpp/${name}`)
}

/** The folder with a binary package's shared libraries, if the package is installed where we can see it. */
function packageLibraryDir(name: string): string | undefined {
  for (const base of [join(process.cwd(), 'package.json'), import.meta.path]) {
    try {
      const root = dirname(createRequire(base).resolve(`${name}/package.json`))
      const bins = join(root, 'bins')
      if (!existsSync(bins)) continue
      const [platformDir] = readdirSync(bins)
      if (platformDir) return join(bins, platformDir)
    } catch {
      // not installed from there
    }
  }
  return undefined
}

const verified = new Map<string, Promise<{ version: string; devices: string[] }>>()

/** Loads the library in a child process first: one that crashes must not take the server with it. */
function smokeTest(dir: string): Promise<{ version: string; devices: string[] }> {
  let result = verified.get(dir)
  if (!result) {
    result = (async () => {
      const child = Bun.spawn([process.execPath, join(import.meta.dir, 'smoke-test.ts'), dir], { stdout: 'pipe', stderr: 'pipe' })
      const timer = setTimeout(() => child.kill(), 60_000)
      const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()])
      clearTimeout(timer)
      if (code !== 0) throw new Error(`it failed to load (exit ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`)
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as { version: string; devices: string[] }
    })()
    verified.set(dir, result)
  }
  return result
}

/**
 * Finds the llama.cpp shared libraries, in order: (1) an explicit folder (`libDir`, or CY_LLAMA_LIB_DIR);
 * (2) the prebuilt `@node-llama-cpp/<platform>` packages, best GPU first, CPU last. Each candidate is
 * smoke-tested in a child process and must be the pinned llama.cpp version; each step is logged, and
 * when none works the error lists what was tried and why each failed.
 */
export async function resolveLlamaLibrary(libDir: string | undefined, log: (line: string) => void = () => {}): Promise<ResolvedLibrary> {
  const candidates: Array<{ dir: string | undefined; source: string }> = []
  const explicit = libDir ?? process.env.CY_LLAMA_LIB_DIR
  if (explicit) candidates.push({ dir: explicit, source: libDir ? 'libDir' : 'CY_LLAMA_LIB_DIR' })
  for (const name of binaryPackages()) candidates.push({ dir: packageLibraryDir(name), source: name })

  const tried: string[] = []
  for (const { dir, source } of candidates) {
    if (!dir) {
      tried.push(`${source}: not installed`)
      continue
    }
    try {
      const { version, devices } = await smokeTest(dir)
      if (!isPinnedVersion(version)) throw new Error(`it is llama.cpp ${version}; this adapter is built for ${LLAMA_CPP_VERSION}`)
      log(`llama.cpp ${version} from ${source} (${dir}); devices: ${devices.join(', ') || 'none'}`)
      return { dir, source, version, devices }
    } catch (error) {
      const reason = `${source} (${dir}): ${(error as Error).message}`
      tried.push(reason)
      log(`skipped ${reason}`)
    }
  }
  throw new NoLibraryFoundError(
    `No usable llama.cpp library. Tried:\n  ${tried.join('\n  ') || '(nothing)'}\n` +
      `Install the prebuilt one (bun add @node-llama-cpp/${binaryPackages().at(-1)?.split('/')[1] ?? '<platform>'}@${BINARY_PACKAGES_VERSION}), ` +
      `or point CY_LLAMA_LIB_DIR at a folder with libllama and libggml built from llama.cpp ${LLAMA_CPP_VERSION}.`,
  )
}
