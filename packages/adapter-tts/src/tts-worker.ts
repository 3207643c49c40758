import { WorkerHost, type OutputSink, type ProviderError, disposeEngineHost } from '@cy/core'
import type { EngineInfo, EngineOptions, SpeakArgs } from './engine/speak-args.ts'
import { PROCESS_ESPEAK_LOCK } from './espeak/espeak-lock.ts'

const ENGINE_WORKER = new URL('./engine/engine-worker.ts', import.meta.url)

/**
 * A model's engine Worker, holding its onnxruntime session and espeak-ng. It runs in the server's process
 * (isolation 'worker') or in an engine process whose main thread only relays (see engine-process.ts).
 */
export class TtsWorker {
  private constructor(
    readonly host: WorkerHost,
    readonly info: EngineInfo,
  ) {}

  /** `onExit`: the Worker died by itself (its calls have failed already). */
  static async load(options: EngineOptions, onExit?: (error: ProviderError) => void): Promise<TtsWorker> {
    const host = new WorkerHost(ENGINE_WORKER, { name: `tts:${options.name}`, ...(onExit ? { onExit } : {}) })
    try {
      // Every engine Worker this process starts shares its one espeak-ng state, and so its lock.
      return new TtsWorker(host, await host.call<EngineInfo>('load', { ...options, espeak: { ...options.espeak, lock: PROCESS_ESPEAK_LOCK.buffer } }))
    } catch (error) {
      host.terminate()
      throw error
    }
  }

  async speak(args: SpeakArgs, out: OutputSink): Promise<void> {
    await this.host.call('speak', args, out)
  }

  async dispose(): Promise<void> {
    await disposeEngineHost(this.host)
  }
}
