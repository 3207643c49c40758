import type { AdapterManifest } from '@cy/core'
import { WHISPER_CPP_VERSION } from './library/whisper-version.ts'

export const manifest: AdapterManifest = {
  name: 'whisper',
  packageName: '@cy/adapter-whisper',
  capabilities: ['asr'],
  engine: { name: 'whisper.cpp', version: WHISPER_CPP_VERSION },
  fileExtensions: ['.bin'],
}
