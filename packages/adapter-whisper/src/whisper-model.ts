import { WorkerHost, type AsrRequest, type LoadedModel, type ModelConfig, type OutputSink } from '@cy/core'
import { existsSync } from 'node:fs'
import { promptTail } from './engine/prompt-tail.ts'
import type { TranscribeRequest } from './engine/transcribe-args.ts'
import { resolveWhisperLibrary } from './library/resolve-library.ts'
import { parseWhisperOptions, type WhisperOptions } from './whisper-options.ts'

interface PoolMember {
  host: WorkerHost
  busy: number
}

/** A whisper model: one context, and a pool of Workers each decoding on its own state. */
export class WhisperModel {
  #disposed = false

  private constructor(
    readonly config: ModelConfig,
    readonly options: WhisperOptions,
    readonly pool: PoolMember[],
    readonly multilingual: boolean,
    readonly version: string,
  ) {}

  static async load(config: ModelConfig, defaults: Record<string, unknown> = {}, log: (line: string) => void = () => {}): Promise<WhisperModel> {
    const path = config.path
    if (!path) throw new Error(`Model '${config.name}': the whisper adapter needs a model file path`)
    if (!existsSync(path)) throw new Error(`Model '${config.name}': no such file ${path}`)
    const options = parseWhisperOptions({ ...defaults, ...config.options })
    const library = await resolveWhisperLibrary(options.libPath, log)
    const engineOptions = {
      libDir: library.libDir,
      headerDirs: library.headerDirs,
      modelPath: path,
      parallel: options.parallel,
      threads: options.threads,
      useGpu: options.gpu,
      flashAttention: options.flashAttention,
    }
    const pool: PoolMember[] = []
    try {
      const first: PoolMember = { host: new WorkerHost(new URL('./engine/engine-worker.ts', import.meta.url), { name: `whisper:${config.name}` }), busy: 0 }
      pool.push(first)
      const loaded = await first.host.call<{ context: number; multilingual: boolean; version: string }>('load', engineOptions)
      // The other Workers share the first one's context (the weights) and decode on states of their own.
      for (let i = 1; i < options.parallel; i++) {
        const member: PoolMember = { host: new WorkerHost(new URL('./engine/engine-worker.ts', import.meta.url), { name: `whisper:${config.name}:${i}` }), busy: 0 }
        pool.push(member)
        await member.host.call('load', { ...engineOptions, sharedContext: loaded.context })
      }
      return new WhisperModel(config, options, pool, loaded.multilingual, loaded.version)
    } catch (error) {
      for (const member of pool.reverse()) member.host.terminate()
      throw new Error(`Model '${config.name}' (${path}): ${(error as Error).message}`)
    }
  }

  /** Takes the file: its buffer moves to the engine Worker (detached here), where it is decoded. */
  async transcribe(request: AsrRequest, out: OutputSink): Promise<void> {
    if (this.#disposed) throw new Error(`Model '${this.config.name}' was unloaded`)
    const bytes = request.file.bytes
    // Moved to the Worker, not copied; a view into a larger buffer (a cluster message) is copied once first.
    const file = bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
    const temperature = request.temperature ?? 0
    const args: TranscribeRequest = {
      file,
      limits: { maxSeconds: this.options.maxSeconds, maxBytes: this.options.maxBytes },
      translate: request.task === 'translate',
      language: request.language || (this.multilingual ? 'auto' : 'en'),
      prompt: promptTail(request.prompt),
      temperature,
      // OpenAI: at temperature 0 the temperature rises by itself until whisper's thresholds are met.
      fallback: this.options.fallback && temperature === 0,
      beamSize: this.options.beamSize,
      wordTimestamps: request.timestamp_granularities?.includes('word') ?? false,
      stream: request.stream === true,
    }
    const member = this.pool.reduce((best, candidate) => (candidate.busy < best.busy ? candidate : best))
    member.busy++
    try {
      await member.host.call('transcribe', args, out, [file.buffer as ArrayBuffer])
    } finally {
      member.busy--
    }
    out.end()
  }

  loaded(): LoadedModel {
    return {
      providers: { asr: (request, out) => this.transcribe(request, out) },
      metadata: { engine: `whisper.cpp ${this.version}`, multilingual: this.multilingual, parallel: this.options.parallel, maxUploadBytes: this.options.maxBytes },
      dispose: () => this.dispose(),
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    // The Workers that share the context go first; the one that owns it frees it last.
    for (const member of [...this.pool].reverse()) {
      await member.host.call('dispose', null).catch(() => {})
      member.host.terminate()
    }
  }
}
