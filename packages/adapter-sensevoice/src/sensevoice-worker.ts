import { WorkerHost, type OutputSink, type ProviderError, disposeEngineHost } from '@cy/core'
import type { EngineInfo, EngineOptions, TranscribeRequest } from './engine/transcribe-args.ts'

const ENGINE_WORKER = new URL('./engine/engine-worker.ts', import.meta.url)

/**
 * The file in a buffer of its own: a view into a larger buffer (a cluster message) is copied once, so only
 * the file moves to the Worker.
 */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
}

/**
 * A model's engine Worker, holding its one onnxruntime session. It runs in the server's process (isolation
 * 'worker') or in an engine process whose main thread only relays (see engine-process.ts).
 */
export class SenseVoiceWorker {
  private constructor(
    readonly host: WorkerHost,
    readonly info: EngineInfo,
  ) {}

  /** `onExit`: the Worker died by itself (its calls have failed already). */
  static async load(options: EngineOptions, name: string, onExit?: (error: ProviderError) => void): Promise<SenseVoiceWorker> {
    const host = new WorkerHost(ENGINE_WORKER, { name: `sensevoice:${name}`, ...(onExit ? { onExit } : {}) })
    try {
      return new SenseVoiceWorker(host, await host.call<EngineInfo>('load', options))
    } catch (error) {
      host.terminate()
      throw error
    }
  }

  /** The file's buffer moves to the Worker (detached here). */
  async transcribe(request: TranscribeRequest, out: OutputSink): Promise<void> {
    const file = ownBuffer(request.file)
    await this.host.call('transcribe', { ...request, file }, out, [file.buffer as ArrayBuffer])
  }

  async dispose(): Promise<void> {
    await disposeEngineHost(this.host)
  }
}
