import type { AdapterManifest } from '@cy/core'
import { ONNX_RUNTIME_VERSION } from '@cy/onnx'

export const manifest: AdapterManifest = {
  name: 'sensevoice',
  packageName: '@cy/adapter-sensevoice',
  capabilities: ['asr'],
  engine: { name: 'onnxruntime', version: ONNX_RUNTIME_VERSION },
  fileExtensions: ['.onnx'],
}
