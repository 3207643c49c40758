import type { AdapterManifest } from '@cy/core'
import { SD_CPP_COMMIT } from './library/sd-version.ts'

export const manifest: AdapterManifest = {
  name: 'sdxl',
  packageName: '@cy/adapter-sdxl',
  capabilities: ['image'],
  engine: { name: 'stable-diffusion.cpp', version: SD_CPP_COMMIT },
  fileExtensions: ['.safetensors', '.gguf', '.ckpt'],
}
