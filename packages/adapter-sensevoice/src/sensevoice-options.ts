import { isolationOption, type Isolation } from '@cy/core'
import { integerOption } from '@cy/native'
import { providersOption, type OnnxProvider } from '@cy/onnx'

/** Per-model options, from the model's `options` in the config (and the adapter's defaults). */
export interface SenseVoiceOptions {
  /** onnxruntime's intra-op threads (default: its own choice, the physical cores). */
  threads?: number
  /** Execution providers to try, best first (default: CUDA where present, CoreML on macOS, then CPU). */
  providers?: OnnxProvider[]
  /** Where the session runs: a child process of its own (default), or a Worker of the server's process. */
  isolation: Isolation
  /** The longest upload, in seconds of audio (default 3600). */
  maxSeconds: number
  /** The largest upload, in bytes (default 100 MiB). */
  maxBytes: number
  /** Inverse text normalization (punctuation, numbers) when a request does not choose (default true). */
  itn: boolean
  /** Audio longer than this is split at silences into pieces of at most this many seconds (default 30, as SenseVoice was trained). */
  maxSegmentSeconds: number
}

const integer = (value: unknown, name: string, min: number) => integerOption(value, 'sensevoice', name, min)

export function parseSenseVoiceOptions(raw: Record<string, unknown> = {}): SenseVoiceOptions {
  const options: SenseVoiceOptions = {
    isolation: isolationOption(raw.isolation, 'sensevoice', 'process'),
    maxSeconds: integer(raw.maxSeconds, 'maxSeconds', 1) ?? 3600,
    maxBytes: integer(raw.maxBytes, 'maxBytes', 1) ?? 100 * 1024 * 1024,
    itn: raw.itn !== false,
    maxSegmentSeconds: integer(raw.maxSegmentSeconds, 'maxSegmentSeconds', 1) ?? 30,
  }
  const threads = integer(raw.threads, 'threads', 1)
  if (threads !== undefined) options.threads = threads
  const providers = providersOption(raw.providers, 'sensevoice')
  if (providers) options.providers = providers
  return options
}
