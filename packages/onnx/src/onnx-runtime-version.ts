import { createRequire } from 'node:module'
import { OnnxRuntimeVersionError } from './onnx-runtime-version-error.ts'

/** The one onnxruntime-node release this package is built and tested against (package.json pins it exactly). */
export const ONNX_RUNTIME_VERSION = '1.30.0'

const require = createRequire(import.meta.url)

/** The installed onnxruntime-node's version, from its own package.json. */
export function installedOnnxRuntimeVersion(): string {
  return (require('onnxruntime-node/package.json') as { version: string }).version
}

/**
 * Throws when the installed onnxruntime-node is not the pinned release: a hoisted or overridden copy would
 * load a native library whose session options and provider files we have not checked.
 */
export function checkOnnxRuntimeVersion(installed: string = installedOnnxRuntimeVersion()): void {
  if (installed !== ONNX_RUNTIME_VERSION) throw new OnnxRuntimeVersionError(installed, ONNX_RUNTIME_VERSION)
}
