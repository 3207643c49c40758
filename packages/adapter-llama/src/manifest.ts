import type { AdapterManifest } from '@cy/core'
import { LLAMA_CPP_VERSION } from './library/llama-version.ts'

export const manifest: AdapterManifest = {
  name: 'llama',
  packageName: '@cy/adapter-llama',
  capabilities: ['chat', 'completion', 'embedding'],
  engine: { name: 'llama.cpp', version: LLAMA_CPP_VERSION },
  fileExtensions: ['.gguf'],
  toolCalls: 'bridge',
}
