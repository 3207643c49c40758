import { SupervisedHost, withUploadFiles, type AsrRequest, type LoadedModel, type ModelConfig, type OutputSink, disposeModelEngine } from '@cy/core'
import { ONNX_RUNTIME_VERSION } from '@cy/onnx'
import { existsSync } from 'node:fs'
import type { EngineInfo, EngineOptions, TranscribeRequest, UploadedFile } from './engine/transcribe-args.ts'
import { senseVoiceFiles } from './model-files/sensevoice-files.ts'
import { requestArgs, SENSEVOICE_SUPPORTS } from './request-args.ts'
import { parseSenseVoiceOptions, type SenseVoiceOptions } from './sensevoice-options.ts'
import { SenseVoiceWorker } from './sensevoice-worker.ts'

/** Where the model's session runs: a Worker of this process, or an engine process of its own (restarted when it dies). */
type Engine = { kind: 'worker'; worker: SenseVoiceWorker } | { kind: 'process'; host: SupervisedHost }

/** A SenseVoice model: one onnxruntime session, in its engine Worker. */
export class SenseVoiceModel {
  #disposed = false

  private constructor(
    readonly config: ModelConfig,
    readonly options: SenseVoiceOptions,
    readonly engine: Engine,
    readonly info: EngineInfo,
  ) {}

  static async load(config: ModelConfig, defaults: Record<string, unknown> = {}): Promise<SenseVoiceModel> {
    const path = config.path
    if (!path) throw new Error(`Model '${config.name}': the sensevoice adapter needs a model file path (model.onnx, with tokens.txt beside it)`)
    if (!existsSync(path)) throw new Error(`Model '${config.name}': no such file ${path}`)
    const options = parseSenseVoiceOptions({ ...defaults, ...config.options })
    try {
      const files = await senseVoiceFiles(path)
      const engineOptions: EngineOptions = {
        ...files,
        maxSegmentSeconds: options.maxSegmentSeconds,
        ...(defaults.quiet ? { quiet: true } : {}),
        ...(options.threads === undefined ? {} : { threads: options.threads }),
        ...(options.providers ? { providers: options.providers } : {}),
      }
      if (options.isolation === 'worker') {
        const worker = await SenseVoiceWorker.load(engineOptions, config.name)
        return new SenseVoiceModel(config, options, { kind: 'worker', worker }, worker.info)
      }
      const { host, loaded } = await SupervisedHost.start<EngineInfo>(new URL('./engine/engine-process.ts', import.meta.url), {
        name: `sensevoice:${config.name}`,
        isolation: 'process',
        load: { method: 'load', args: { ...engineOptions, name: config.name } },
      })
      return new SenseVoiceModel(config, options, { kind: 'process', host }, loaded)
    } catch (error) {
      throw new Error(`Model '${config.name}' (${path}): ${(error as Error).message}`)
    }
  }

  /** Takes the file: to the Worker its buffer moves (detached here); to a process it goes as a file. */
  async transcribe(request: AsrRequest, out: OutputSink): Promise<void> {
    if (this.#disposed) throw new Error(`Model '${this.config.name}' was unloaded`)
    const args: TranscribeRequest = {
      ...requestArgs(this.config.name, request, this.options),
      file: request.file.bytes,
      limits: { maxSeconds: this.options.maxSeconds, maxBytes: this.options.maxBytes },
    }
    if (this.engine.kind === 'worker') await this.engine.worker.transcribe(args, out)
    else await this.#transcribeInProcess(this.engine.host, args, out)
    out.end()
  }

  /** The upload goes to the engine process as a file (see withUploadFiles). */
  async #transcribeInProcess(host: SupervisedHost, { file, ...args }: TranscribeRequest, out: OutputSink): Promise<void> {
    await withUploadFiles('cy-sensevoice-upload', [file], (paths) => host.call('transcribe', { ...args, path: paths[0]! } satisfies UploadedFile, out))
  }

  loaded(): LoadedModel {
    const engine = this.engine
    return {
      providers: { asr: (request, out) => this.transcribe(request, out) },
      ...(engine.kind === 'process' ? { onStatus: engine.host.onStatus } : {}),
      // One session run at a time; the rest wait in the server's queue in front of the model.
      limits: { maxConcurrency: 1 },
      supports: { asr: SENSEVOICE_SUPPORTS },
      metadata: {
        isolation: engine.kind,
        engine: `onnxruntime ${ONNX_RUNTIME_VERSION}`,
        provider: this.info.provider,
        vocabSize: this.info.vocabSize,
        itn: this.options.itn,
        maxSegmentSeconds: this.options.maxSegmentSeconds,
        maxUploadBytes: this.options.maxBytes,
      },
      dispose: () => this.dispose(),
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    await disposeModelEngine(this.engine)
  }
}
