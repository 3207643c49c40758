import type { OnnxProvider } from '@cy/onnx'
import type { TtsFiles } from '../voices/tts-files.ts'
import type { VoiceChoice, VoiceEntry } from '../voices/voice-entry.ts'

/** What an engine loads: paths only (it reads the files itself), so they cross a process boundary as they are. */
export interface EngineOptions {
  files: TtsFiles
  /** The voice's name when it lists itself (a Piper voice's file name). */
  name: string
  /** What resolveEspeak found (on the main thread, where it smoke-tests the library in a child process). */
  espeak: { library: string; dataPath: string; lock?: SharedArrayBuffer }
  threads?: number
  providers?: OnnxProvider[]
  /** No log lines (provider choice) on stderr. */
  quiet?: boolean
}

/** One request, as the engine takes it: the voice already chosen from the model's list. */
export interface SpeakArgs {
  input: string
  voice: VoiceChoice
  /** The espeak-ng voice for the phonemes. */
  language: string
  /** 0.25–4: Piper's length scale is divided by it, Kokoro takes it as its input. */
  speed: number
  /** Piper: overrides of the voice's inference scales. */
  noiseScale?: number
  noiseW?: number
  /** The audio's rate when not the model's own: each chunk is resampled to it. */
  sampleRate?: number
  /** Silence before each chunk after the first, in ms at speed 1: after a sentence, or after a clause. */
  sentencePauseMs: number
  clausePauseMs: number
}

/** What a loaded engine reports. */
export interface EngineInfo {
  kind: 'piper' | 'kokoro'
  provider: string
  sampleRate: number
  voices: VoiceEntry[]
  espeakVersion: string
  /** The graph's inputs, as onnxruntime names them. */
  inputs: string[]
}
