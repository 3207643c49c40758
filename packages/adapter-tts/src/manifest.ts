import type { AdapterManifest } from '@cy/core'
import { ONNX_RUNTIME_VERSION } from '@cy/onnx'

export const manifest: AdapterManifest = {
  name: 'tts',
  packageName: '@cy/adapter-tts',
  capabilities: ['tts'],
  // Phonemes come from the system's espeak-ng, whose version is read when a model loads (its metadata says it).
  engine: { name: 'onnxruntime', version: `${ONNX_RUNTIME_VERSION}, phonemes by espeak-ng` },
  fileExtensions: ['.onnx'],
}
