import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** The execution providers @cy/onnx chooses between, best first where each is offered. */
export type OnnxProvider = 'cuda' | 'coreml' | 'cpu'

export const ONNX_PROVIDERS: readonly OnnxProvider[] = ['cuda', 'coreml', 'cpu']

const require = createRequire(import.meta.url)

/** The folder onnxruntime-node loads its native files from (`bin/napi-v6/<platform>/<arch>`). */
export function onnxRuntimeBinDir(platform: string = process.platform, arch: string = process.arch): string {
  return join(onnxRuntimePackageDir(), 'bin', 'napi-v6', platform, arch)
}

/** The CUDA provider library, which the package does not ship: its postinstall downloads it from NuGet. */
export function cudaProviderLibrary(): string {
  return join(onnxRuntimeBinDir(), 'libonnxruntime_providers_cuda.so')
}

/** onnxruntime-node's own folder (wherever the package manager put it). */
export function onnxRuntimePackageDir(): string {
  return dirname(require.resolve('onnxruntime-node/package.json'))
}

// How a user gets the CUDA provider, quoted in the skip message because the install we use never runs it.
function cudaHowTo(): string {
  const script = join(onnxRuntimePackageDir(), 'script', 'install.js')
  return (
    `onnxruntime-node's postinstall downloads it (Microsoft.ML.OnnxRuntime.Gpu.Linux from api.nuget.org) and bun skips that script: ` +
    `run \`node ${script}\` once with network access (\`ONNXRUNTIME_NODE_INSTALL=1\` forces a re-download); it also needs CUDA 12 and cuDNN 9 on the library path`
  )
}

/** Why a provider cannot be tried on this machine, or undefined when it can. */
export function providerUnavailableReason(provider: OnnxProvider): string | undefined {
  switch (provider) {
    case 'cpu':
      return undefined
    case 'coreml':
      return process.platform === 'darwin' ? undefined : `CoreML is macOS only (this is ${process.platform})`
    case 'cuda': {
      if (process.platform !== 'linux' || process.arch !== 'x64') {
        return `onnxruntime-node offers CUDA on Linux x64 only (this is ${process.platform} ${process.arch})`
      }
      const library = cudaProviderLibrary()
      return existsSync(library) ? undefined : `${library} is absent: ${cudaHowTo()}`
    }
  }
}

/** The providers to try on this machine, best first (unavailable ones are still listed: each skip is logged). */
export function defaultProviders(): OnnxProvider[] {
  if (process.platform === 'darwin') return ['coreml', 'cpu']
  if (process.platform === 'linux' && process.arch === 'x64') return ['cuda', 'cpu']
  return ['cpu']
}
