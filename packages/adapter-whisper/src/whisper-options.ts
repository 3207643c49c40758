import { isolationOption, type Isolation } from '@cy/core'
import { integerOption } from '@cy/native'
import { availableParallelism } from 'node:os'

/** Per-model options, from the model's `options` in the config (and the adapter's defaults). */
export interface WhisperOptions {
  /** libwhisper, or its folder (else CY_WHISPER_LIB, else a cached or new build). */
  libPath?: string
  /** Requests decoded at once, each on its own whisper state (default 2). */
  parallel: number
  /** CPU threads per request (default: the cores shared among `parallel`). */
  threads: number
  gpu: boolean
  flashAttention: boolean
  /** Beam width; 1 is greedy (default 1). */
  beamSize: number
  /** Re-decode at higher temperatures when a segment fails whisper's checks (default true, as whisper). */
  fallback: boolean
  maxSeconds: number
  maxBytes: number
  /**
   * Where the engine runs: a child process of its own (default), whose native crash takes only that
   * model down (it is restarted), or Workers of the server's process.
   */
  isolation: Isolation
}

const integer = (value: unknown, name: string, min: number) => integerOption(value, 'whisper', name, min)

export function parseWhisperOptions(raw: Record<string, unknown> = {}): WhisperOptions {
  const parallel = integer(raw.parallel, 'parallel', 1) ?? 2
  const options: WhisperOptions = {
    parallel,
    threads: integer(raw.threads, 'threads', 1) ?? Math.max(1, Math.floor(availableParallelism() / parallel)),
    gpu: raw.gpu !== false,
    flashAttention: raw.flashAttention !== false,
    beamSize: integer(raw.beamSize, 'beamSize', 1) ?? 1,
    fallback: raw.fallback !== false,
    maxSeconds: integer(raw.maxSeconds, 'maxSeconds', 1) ?? 3600,
    maxBytes: integer(raw.maxBytes, 'maxBytes', 1) ?? 100 * 1024 * 1024,
    isolation: isolationOption(raw.isolation, 'whisper', 'process'),
  }
  if (typeof raw.libPath === 'string') options.libPath = raw.libPath
  return options
}
