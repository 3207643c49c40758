import { SupervisedHost, withUploadFiles, type AsrRequest, type LoadedModel, type ModelConfig, type OutputSink, disposeEngineHost } from '@cy/core'
import { existsSync } from 'node:fs'
import { promptTail } from './engine/prompt-tail.ts'
import type { EngineOptions, TranscribeRequest, UploadedFile } from './engine/transcribe-args.ts'
import { resolveWhisperLibrary } from './library/resolve-library.ts'
import { parseWhisperOptions, type WhisperOptions } from './whisper-options.ts'
import { WhisperPool } from './whisper-pool.ts'

/** Where the model's pool runs: in this process, or in an engine process of its own (restarted when it dies). */
type Engine = { kind: 'worker'; pool: WhisperPool } | { kind: 'process'; host: SupervisedHost }

/** A whisper model: one context, and a pool of Workers each decoding on its own state. */
export class WhisperModel {
  #disposed = false

  private constructor(
    readonly config: ModelConfig,
    readonly options: WhisperOptions,
    readonly engine: Engine,
    readonly multilingual: boolean,
    readonly version: string,
  ) {}

  static async load(config: ModelConfig, defaults: Record<string, unknown> = {}, log: (line: string) => void = () => {}): Promise<WhisperModel> {
    const path = config.path
    if (!path) throw new Error(`Model '${config.name}': the whisper adapter needs a model file path`)
    if (!existsSync(path)) throw new Error(`Model '${config.name}': no such file ${path}`)
    const options = parseWhisperOptions({ ...defaults, ...config.options })
    const onProgress = config.onProgress
    const library = await resolveWhisperLibrary(options.libPath, log, onProgress && ((percent) => onProgress({ stage: 'building whisper.cpp', percent })))
    const engineOptions: EngineOptions = {
      libDir: library.libDir,
      headerDirs: library.headerDirs,
      modelPath: path,
      parallel: options.parallel,
      threads: options.threads,
      useGpu: options.gpu,
      flashAttention: options.flashAttention,
    }
    try {
      if (options.isolation === 'worker') {
        const pool = await WhisperPool.load(engineOptions, config.name)
        return new WhisperModel(config, options, { kind: 'worker', pool }, pool.multilingual, pool.version)
      }
      const { host, loaded } = await SupervisedHost.start<{ multilingual: boolean; version: string }>(new URL('./engine/engine-process.ts', import.meta.url), {
        name: `whisper:${config.name}`,
        isolation: 'process',
        load: { method: 'load', args: { ...engineOptions, name: config.name } },
      })
      return new WhisperModel(config, options, { kind: 'process', host }, loaded.multilingual, loaded.version)
    } catch (error) {
      throw new Error(`Model '${config.name}' (${path}): ${(error as Error).message}`)
    }
  }

  /** Takes the file: on Workers of this process its buffer moves to the engine (detached here); to a process it goes as a file. */
  async transcribe(request: AsrRequest, out: OutputSink): Promise<void> {
    if (this.#disposed) throw new Error(`Model '${this.config.name}' was unloaded`)
    const temperature = request.temperature ?? 0
    const args: TranscribeRequest = {
      file: request.file.bytes,
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
    if (this.engine.kind === 'worker') await this.engine.pool.transcribe(args, out)
    else await this.#transcribeInProcess(this.engine.host, args, out)
    out.end()
  }

  /**
   * An upload goes to the engine process as a file: sent over IPC, its bytes would be serialized on this
   * event loop (tens of milliseconds for a long recording); written off it, only the path travels.
   */
  async #transcribeInProcess(host: SupervisedHost, { file, ...args }: TranscribeRequest, out: OutputSink): Promise<void> {
    await withUploadFiles('cy-whisper-upload', [file], (paths) => host.call('transcribe', { ...args, path: paths[0]! } satisfies UploadedFile, out))
  }

  loaded(): LoadedModel {
    const engine = this.engine
    return {
      providers: { asr: (request, out) => this.transcribe(request, out) },
      ...(engine.kind === 'process' ? { onStatus: engine.host.onStatus } : {}),
      metadata: {
        isolation: engine.kind,
        engine: `whisper.cpp ${this.version}`,
        multilingual: this.multilingual,
        parallel: this.options.parallel,
        maxUploadBytes: this.options.maxBytes,
      },
      dispose: () => this.dispose(),
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    if (this.engine.kind === 'worker') return this.engine.pool.dispose()
    await disposeEngineHost(this.engine.host)
  }
}
