import type { AudioLimits } from '@cy/audio'
import type { TranscribeOptions } from '../native/whisper-native.ts'

export interface EngineOptions {
  libDir: string
  headerDirs: string[]
  modelPath: string
  /** whisper states decoding at once. */
  parallel: number
  threads: number
  useGpu: boolean
  flashAttention: boolean
}

export interface TranscribeArgs extends Omit<TranscribeOptions, 'threads'> {
  /** 16 kHz mono samples. */
  samples: Float32Array
  /** Stream segments as they are decoded. */
  stream: boolean
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

export interface TranscribeResult {
  language: string
  segments: Array<{
    start: number
    end: number
    text: string
    noSpeechProb: number
    avgLogprob: number
    tokens: number[]
    words: Array<{ word: string; start: number; end: number }>
  }>
}
