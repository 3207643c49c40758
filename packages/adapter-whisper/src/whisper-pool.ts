import { WorkerHost, type OutputSink, type ProviderError, disposeEngineHost } from '@cy/core'
import type { EngineOptions, TranscribeRequest } from './engine/transcribe-args.ts'

const ENGINE_WORKER = new URL('./engine/engine-worker.ts', import.meta.url)

/**
 * The file in a buffer of its own: a view into a larger buffer (a cluster message) is copied once, so only
 * the file moves to a Worker, or is copied to an engine process.
 */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
}

interface PoolMember {
  host: WorkerHost
  busy: number
}

/**
 * A model's engine Workers: one loads the whisper context, the others share it (by address, so all of
 * them live in one process) and each decodes on its own state. It runs in the server's process
 * (isolation 'worker') or in an engine process whose main thread only relays (see engine-process.ts).
 */
export class WhisperPool {
  private constructor(
    readonly members: PoolMember[],
    readonly multilingual: boolean,
    readonly version: string,
  ) {}

  /** `onExit`: a Worker died by itself (its calls have failed already). */
  static async load(options: EngineOptions, name: string, onExit?: (error: ProviderError) => void): Promise<WhisperPool> {
    const members: PoolMember[] = []
    const member = (suffix: string) => {
      const added = { host: new WorkerHost(ENGINE_WORKER, { name: `whisper:${name}${suffix}`, ...(onExit ? { onExit } : {}) }), busy: 0 }
      members.push(added)
      return added
    }
    try {
      const loaded = await member('').host.call<{ context: number; multilingual: boolean; version: string }>('load', options)
      for (let i = 1; i < options.parallel; i++) await member(`:${i}`).host.call('load', { ...options, sharedContext: loaded.context })
      return new WhisperPool(members, loaded.multilingual, loaded.version)
    } catch (error) {
      for (const added of members.reverse()) added.host.terminate()
      throw error
    }
  }

  /** Decodes on the least busy Worker; the file's buffer moves to it (detached here). */
  async transcribe(request: TranscribeRequest, out: OutputSink): Promise<void> {
    const file = ownBuffer(request.file)
    const member = this.members.reduce((best, candidate) => (candidate.busy < best.busy ? candidate : best))
    member.busy++
    try {
      await member.host.call('transcribe', { ...request, file }, out, [file.buffer as ArrayBuffer])
    } finally {
      member.busy--
    }
  }

  async dispose(): Promise<void> {
    // The Workers that share the context go first; the one that owns it frees it last.
    for (const member of [...this.members].reverse()) {
      await disposeEngineHost(member.host)
    }
  }
}
