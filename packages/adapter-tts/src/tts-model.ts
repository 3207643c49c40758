import { SupervisedHost, type LoadedModel, type ModelConfig, type OutputSink, type SpeechRequest, disposeModelEngine } from '@cy/core'
import { ONNX_RUNTIME_VERSION } from '@cy/onnx'
import { existsSync } from 'node:fs'
import { basename } from 'node:path'
import type { EngineInfo, EngineOptions } from './engine/speak-args.ts'
import { resolveEspeak } from './espeak/resolve-espeak.ts'
import { requestArgs, TTS_SUPPORTS } from './request-args.ts'
import { parseTtsOptions, type TtsOptions } from './tts-options.ts'
import { TtsWorker } from './tts-worker.ts'
import { aliasTarget, selectVoice } from './voices/select-voice.ts'
import { ttsFiles } from './voices/tts-files.ts'

/** Where the model's session runs: a Worker of this process, or an engine process of its own (restarted when it dies). */
type Engine = { kind: 'worker'; worker: TtsWorker } | { kind: 'process'; host: SupervisedHost }

/** A Piper voice or Kokoro model: one onnxruntime session and espeak-ng, in its engine Worker. */
export class TtsModel {
  #disposed = false

  private constructor(
    readonly config: ModelConfig,
    readonly options: TtsOptions,
    readonly engine: Engine,
    readonly info: EngineInfo,
  ) {}

  static async load(config: ModelConfig, defaults: Record<string, unknown> = {}): Promise<TtsModel> {
    const path = config.path
    if (!path) throw new Error(`Model '${config.name}': the tts adapter needs a model file path (a Piper <voice>.onnx with its .onnx.json, or a Kokoro .onnx with its voices file)`)
    if (!existsSync(path)) throw new Error(`Model '${config.name}': no such file ${path}`)
    const options = parseTtsOptions({ ...defaults, ...config.options })
    const log = defaults.quiet ? () => {} : (line: string) => console.error(`[tts] ${line}`)
    let model: TtsModel | undefined
    try {
      const files = await ttsFiles(path)
      const espeak = await resolveEspeak({ ...(options.espeakLib ? { espeakLib: options.espeakLib } : {}), ...(options.espeakData ? { espeakData: options.espeakData } : {}) }, log)
      const engineOptions: EngineOptions = {
        files,
        name: basename(path, '.onnx'),
        espeak: { library: espeak.library, dataPath: espeak.dataPath },
        ...(defaults.quiet ? { quiet: true } : {}),
        ...(options.threads === undefined ? {} : { threads: options.threads }),
        ...(options.providers ? { providers: options.providers } : {}),
      }
      if (options.isolation === 'worker') {
        const worker = await TtsWorker.load(engineOptions)
        model = new TtsModel(config, options, { kind: 'worker', worker }, worker.info)
      } else {
        const { host, loaded } = await SupervisedHost.start<EngineInfo>(new URL('./engine/engine-process.ts', import.meta.url), {
          name: `tts:${config.name}`,
          isolation: 'process',
          load: { method: 'load', args: engineOptions },
        })
        model = new TtsModel(config, options, { kind: 'process', host }, loaded)
      }
      model.#checkAliases()
      return model
    } catch (error) {
      await model?.dispose()
      throw new Error(`Model '${config.name}' (${path}): ${(error as Error).message}`)
    }
  }

  /** Each configured alias must lead to a voice of the model: a typo is a load error, not a 400 on every request. */
  #checkAliases(): void {
    for (const alias of Object.keys(this.options.voiceAliases)) {
      try {
        selectVoice(this.config.name, aliasTarget(alias, this.info.voices, this.options.voiceAliases), this.info.kind, this.info.voices, {})
      } catch (error) {
        throw new Error(`option voiceAliases: '${alias}' → '${this.options.voiceAliases[alias]}': ${(error as Error).message}`)
      }
    }
  }

  async speak(request: SpeechRequest, out: OutputSink): Promise<void> {
    if (this.#disposed) throw new Error(`Model '${this.config.name}' was unloaded`)
    const args = requestArgs(this.config.name, request, this.options, this.info)
    if (this.engine.kind === 'worker') await this.engine.worker.speak(args, out)
    else await this.engine.host.call('speak', args, out)
    out.end()
  }

  loaded(): LoadedModel {
    const engine = this.engine
    return {
      providers: { tts: (request, out) => this.speak(request, out) },
      ...(engine.kind === 'process' ? { onStatus: engine.host.onStatus } : {}),
      // One session run at a time; the rest wait in the server's queue in front of the model.
      limits: { maxConcurrency: 1 },
      supports: { tts: TTS_SUPPORTS[this.info.kind] },
      metadata: {
        isolation: engine.kind,
        engine: `onnxruntime ${ONNX_RUNTIME_VERSION}, espeak-ng ${this.info.espeakVersion}`,
        family: this.info.kind,
        provider: this.info.provider,
        sampleRate: this.info.sampleRate,
        voices: this.info.voices.map(({ id, name, language }) => ({ id, name, language })),
        voiceAliases: this.options.voiceAliases,
        maxInputChars: this.options.maxInputChars,
        // Piper and Kokoro cannot be steered by prose: the HTTP layer says so in a Warning header.
        ignoredParameters: ['instructions'],
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
