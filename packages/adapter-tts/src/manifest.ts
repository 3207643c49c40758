import type { AdapterManifest } from '@cy/core'
import { ONNX_RUNTIME_VERSION } from '@cy/onnx'

export const manifest: AdapterManifest = {
  name: 'tts',
  packageName: '@cy/adapter-tts',
  capabilities: ['tts'],
  // Phonemes come from the system's espeak-ng (its version is read when a model loads).
  engine: { name: 'onnxruntime + espeak-ng', version: ONNX_RUNTIME_VERSION },
  fileExtensions: ['.onnx'],
}
