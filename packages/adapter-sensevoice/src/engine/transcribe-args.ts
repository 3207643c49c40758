import type { AudioLimits } from '@cy/audio'
import type { OnnxProvider } from '@cy/onnx'
import type { SenseVoiceFiles } from '../model-files/sensevoice-files.ts'
import type { SenseVoiceLanguage } from '../model-files/sensevoice-metadata.ts'

/** What an engine loads: paths only (it reads the metadata itself), so they cross a process boundary as they are. */
export interface EngineOptions extends SenseVoiceFiles {
  threads?: number
  providers?: OnnxProvider[]
  maxSegmentSeconds: number
  /** No log lines (provider choice) on stderr. */
  quiet?: boolean
}

export interface TranscribeArgs {
  /** 16 kHz mono samples. */
  samples: Float32Array
  language: SenseVoiceLanguage | 'auto'
  /** Inverse text normalization: punctuation and numbers. */
  itn: boolean
  wordTimestamps: boolean
  /** The text with the model's tags, in the transcript's info. */
  rawText: boolean
}

/** What the main thread sends: the uploaded file, decoded in the Worker (off the event loop). */
export interface TranscribeRequest extends Omit<TranscribeArgs, 'samples'> {
  /** The file as uploaded; its buffer is transferred, not copied. */
  file: Uint8Array
  limits: AudioLimits
}

/** To an engine process: the upload as a file the parent wrote (and removes once the call is over). */
export interface UploadedFile extends Omit<TranscribeRequest, 'file'> {
  path: string
}

/** What a loaded engine reports. */
export interface EngineInfo {
  provider: string
  vocabSize: number
  inputs: string[]
}
