import { createRequire } from 'node:module'
import type * as Ort from 'onnxruntime-node'
import { checkOnnxRuntimeVersion } from './onnx-runtime-version.ts'

export type OnnxRuntime = typeof Ort

const require = createRequire(import.meta.url)
let runtime: OnnxRuntime | undefined

/**
 * onnxruntime-node, loaded on first use after its version is checked. Lazy so that importing @cy/onnx (for
 * metadata, on the server's main thread) never loads the native library; sessions load it in their Worker.
 */
export function onnxRuntime(): OnnxRuntime {
  if (runtime === undefined) {
    checkOnnxRuntimeVersion()
    runtime = require('onnxruntime-node') as OnnxRuntime
  }
  return runtime
}

// The session and tensor types, so adapters need no import of onnxruntime-node of their own.
export type { InferenceSession, Tensor } from 'onnxruntime-node'
