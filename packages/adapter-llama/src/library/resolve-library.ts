import { resolveEngineLibrary } from '@cy/native'
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { BINARY_PACKAGES_VERSION, isPinnedVersion, LLAMA_CPP_VERSION } from './llama-version.ts'

export { NoLibraryFoundError } from '@cy/native'

export interface ResolvedLibrary {
  dir: string
  /** Where it came from ("CY_LLAMA_LIB_DIR", "@node-llama-cpp/linux-x64-cuda"). */
  source: string
  version: string
  /** ggml devices, best first ("CUDA0", "CPU"). */
  devices: string[]
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

/**
 * Finds the llama.cpp shared libraries, in order: (1) an explicit folder (`libDir`, or CY_LLAMA_LIB_DIR);
 * (2) the prebuilt `@node-llama-cpp/<platform>` packages, best GPU first, CPU last. Each candidate is
 * smoke-tested in a child process and must be the pinned llama.cpp version; each step is logged, and
 * when none works the error lists what was tried and why each failed.
 */
export async function resolveLlamaLibrary(libDir: string | undefined, log: (line: string) => void = () => {}): Promise<ResolvedLibrary> {
  const explicit = libDir ?? process.env.CY_LLAMA_LIB_DIR
  const found = await resolveEngineLibrary(
    {
      engine: 'llama.cpp',
      version: LLAMA_CPP_VERSION,
      isPinnedVersion,
      smokeScript: join(import.meta.dir, 'smoke-test.ts'),
      candidates: [
        ...(explicit ? [{ dir: explicit, source: libDir ? 'libDir' : 'CY_LLAMA_LIB_DIR' }] : []),
        ...binaryPackages().map((name) => ({ dir: packageLibraryDir(name), source: name })),
      ],
      hint:
        `Install the prebuilt one (bun add @node-llama-cpp/${binaryPackages().at(-1)?.split('/')[1] ?? '<platform>'}@${BINARY_PACKAGES_VERSION}), ` +
        `or point CY_LLAMA_LIB_DIR at a folder with libllama and libggml built from llama.cpp ${LLAMA_CPP_VERSION}.`,
    },
    log,
  )
  const devices = (found.smoke.devices as string[] | undefined) ?? []
  log(`llama.cpp devices: ${devices.join(', ') || 'none'}`)
  return { dir: found.dir, source: found.source, version: found.version, devices }
}
