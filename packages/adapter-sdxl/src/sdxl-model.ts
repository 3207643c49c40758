import { combineEngineStatus, disposeEngineHost, SupervisedHost, withUploadFiles, WorkerHost, type ImageRequest, type LoadedModel, type ModelConfig, type OutputSink } from '@cy/core'
import { existsSync } from 'node:fs'
import { detectCheckpoint, type ClaimedCheckpoint } from './checkpoint/index.ts'
import { generateArgs, type EngineOptions, type GenerateRequest, type UploadedGenerateRequest } from './engine/generate-args.ts'
import { resolveSdLibrary } from './library/resolve-library.ts'
import type { SdEngineInfo } from './sd-pool.ts'
import { parseSdxlOptions, type SdxlOptions } from './sdxl-options.ts'

const ENGINE_RELAY = new URL('./engine/engine-process.ts', import.meta.url)

/** The optional image fields this adapter honours (anything else set is refused by the server with a 400). */
export const SDXL_SUPPORTS = [
  'n', 'size', 'quality', 'style', 'seed', 'negative_prompt', 'steps', 'cfg_scale', 'background', 'sampler', 'scheduler', 'clip_skip',
  'strength', 'loras', 'image', 'mask',
] as const

/**
 * Where the model's relay runs: a Worker of this process, or engine processes of its own (restarted when
 * they die), one per context: stable-diffusion.cpp's progress and preview callbacks are process-wide, so
 * two contexts generating at once in one process would call each other's.
 */
type Engine = { kind: 'worker'; host: WorkerHost } | { kind: 'process'; hosts: Array<{ host: SupervisedHost; busy: number }> }

/**
 * The bytes in a buffer of their own, which can move to a Worker: a view into a larger buffer would move
 * all of it, and some buffers (a Node Buffer over external memory) cannot be transferred at all. One copy
 * of an upload costs little beside a generation.
 */
const ownBuffer = (bytes: Uint8Array): Uint8Array => bytes.slice()

/** A stable-diffusion.cpp model: `parallel` contexts, each behind a relay (see engine-process.ts). */
export class SdxlModel {
  #disposed = false

  private constructor(
    readonly config: ModelConfig,
    readonly options: SdxlOptions,
    readonly engine: Engine,
    readonly info: SdEngineInfo,
    readonly checkpoint: ClaimedCheckpoint | undefined,
    /** The pinned commit the library reported or its build stamp named. */
    readonly version: string,
  ) {}

  static async load(config: ModelConfig, defaults: Record<string, unknown> = {}, log: (line: string) => void = () => {}): Promise<SdxlModel> {
    const path = config.path
    const raw = { ...defaults, ...config.options }
    if (!path && typeof raw.diffusionModel !== 'string') throw new Error(`Model '${config.name}': the sdxl adapter needs a model file path (or a 'diffusionModel' option)`)
    if (path && !existsSync(path)) throw new Error(`Model '${config.name}': no such file ${path}`)
    let checkpoint: ClaimedCheckpoint | undefined
    if (path) {
      const detected = await detectCheckpoint(path)
      // A file the detection does not claim may still load with separate parts (clipL, vae...): the library decides.
      if (detected.claim) checkpoint = detected
      else if (typeof raw.diffusionModel !== 'string' && typeof raw.clipL !== 'string') throw new Error(`Model '${config.name}' (${path}): ${detected.reason}`)
    }
    const options = parseSdxlOptions(raw, { ...(checkpoint ? { family: checkpoint.family, distilled: checkpoint.distilled !== null } : {}) }, config.configDir)
    for (const name of ['taesd', 'vae', 'clipL', 'clipG', 'diffusionModel'] as const) {
      const file = options[name]
      if (file && !existsSync(file)) throw new Error(`Model '${config.name}': its '${name}' ${file} does not exist`)
    }
    const onProgress = config.onProgress
    const library = await resolveSdLibrary(options.libPath, log, onProgress && ((percent) => onProgress({ stage: 'building stable-diffusion.cpp', percent })))
    if (options.parallel > 1 && options.isolation === 'worker') {
      throw new Error(`Model '${config.name}': parallel ${options.parallel} needs isolation 'process' (stable-diffusion.cpp's callbacks are process-wide, so each context runs in a process of its own)`)
    }
    const engineOptions: EngineOptions & { parallel: number; name: string } = {
      name: config.name,
      parallel: 1,
      libDir: library.libDir,
      headerDirs: library.headerDirs,
      mergesFile: library.mergesFile,
      context: {
        ...(path ? { modelPath: path } : {}),
        ...(options.clipL ? { clipL: options.clipL } : {}),
        ...(options.clipG ? { clipG: options.clipG } : {}),
        ...(options.diffusionModel ? { diffusionModel: options.diffusionModel } : {}),
        ...(options.vae ? { vae: options.vae } : {}),
        ...(options.taesd ? { taesd: options.taesd } : {}),
        threads: options.threads,
        flashAttention: options.flashAttention,
        offloadToCpu: options.offloadToCpu,
        keepClipOnCpu: options.keepClipOnCpu,
        keepVaeOnCpu: options.keepVaeOnCpu,
        // With a full VAE (in the checkpoint or its own file) the TAESD only decodes previews; without one it makes the images too.
        taePreviewOnly: options.taesd !== undefined && (options.vae !== undefined || checkpoint?.components.includes('vae') === true),
        eagerLoad: true,
      },
      ...(checkpoint ? { variant: checkpoint.variant } : {}),
      hasTaesd: options.taesd !== undefined,
    }
    const name = `sdxl:${config.name}`
    try {
      if (options.isolation === 'worker') {
        const host = new WorkerHost(ENGINE_RELAY, { name })
        try {
          const info = await host.call<SdEngineInfo>('load', engineOptions)
          return new SdxlModel(config, options, { kind: 'worker', host }, info, checkpoint, library.version)
        } catch (error) {
          host.terminate()
          throw error
        }
      }
      const hosts: Array<{ host: SupervisedHost; busy: number }> = []
      let info: SdEngineInfo | undefined
      try {
        for (let i = 0; i < options.parallel; i++) {
          const started = await SupervisedHost.start<SdEngineInfo>(ENGINE_RELAY, { name: i ? `${name}:${i}` : name, isolation: 'process', load: { method: 'load', args: engineOptions } })
          hosts.push({ host: started.host, busy: 0 })
          info = started.loaded
        }
      } catch (error) {
        for (const started of hosts) started.host.terminate()
        throw error
      }
      return new SdxlModel(config, options, { kind: 'process', hosts }, info!, checkpoint, library.version)
    } catch (error) {
      throw new Error(`Model '${config.name}' (${path ?? options.diffusionModel}): ${(error as Error).message}`)
    }
  }

  /** Maps the request (400s for what it cannot do), then generates in the engine; the images stream to `out`. */
  async generate(request: ImageRequest, out: OutputSink): Promise<void> {
    if (this.#disposed) throw new Error(`Model '${this.config.name}' was unloaded`)
    const args = generateArgs(request, this.options)
    if (this.engine.kind === 'worker') {
      const images = args.images?.map(ownBuffer)
      const mask = args.mask && ownBuffer(args.mask)
      const transfer = [...(images ?? []), ...(mask ? [mask] : [])].map((bytes) => bytes.buffer as ArrayBuffer)
      await this.engine.host.call('generate', { ...args, ...(images ? { images } : {}), ...(mask ? { mask } : {}) }, out, transfer)
    } else {
      // The least busy context's process (the server sends at most `parallel` at once).
      const member = this.engine.hosts.reduce((best, candidate) => (candidate.busy < best.busy ? candidate : best))
      member.busy++
      try {
        await this.#generateInProcess(member.host, args, out)
      } finally {
        member.busy--
      }
    }
    out.end()
  }

  /**
   * Uploads go to the engine process as files: sent over IPC, their bytes would be serialized on this
   * event loop; written off it, only the paths travel.
   */
  async #generateInProcess(host: SupervisedHost, { images = [], mask, ...args }: GenerateRequest, out: OutputSink): Promise<void> {
    await withUploadFiles('cy-sdxl-upload', [...images, ...(mask ? [mask] : [])], async (paths) => {
      const request: UploadedGenerateRequest = { ...args }
      if (images.length > 0) request.imagePaths = paths.slice(0, images.length)
      if (mask) request.maskPath = paths[images.length]
      await host.call('generate', request, out)
    })
  }

  loaded(): LoadedModel {
    const engine = this.engine
    const options = this.options
    return {
      providers: { image: (request, out) => this.generate(request, out) },
      ...(engine.kind === 'process' ? { onStatus: combineEngineStatus(engine.hosts.map((member) => member.host.onStatus)) } : {}),
      limits: { maxConcurrency: options.parallel, ...(options.queue === undefined ? {} : { maxQueue: options.queue }) },
      supports: { image: SDXL_SUPPORTS },
      metadata: {
        isolation: engine.kind,
        engine: `stable-diffusion.cpp ${this.version.slice(0, 8)}`,
        ...(this.checkpoint ? { family: this.checkpoint.family, variant: this.checkpoint.variant, distilled: this.checkpoint.distilled } : {}),
        parallel: options.parallel,
        threads: options.threads,
        size: `${options.size.width}x${options.size.height}`,
        maxSize: options.maxSize,
        steps: options.steps,
        cfgScale: options.cfgScale,
        samplers: this.info.samplers,
        schedulers: this.info.schedulers,
        previews: options.taesd ? 'taesd' : 'projection',
        maxUploadBytes: options.maxInputBytes,
      },
      dispose: () => this.dispose(),
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    // Each relay cancels what runs and frees its context once its generation has stopped.
    const hosts = this.engine.kind === 'worker' ? [this.engine.host] : this.engine.hosts.map((member) => member.host)
    await Promise.all(hosts.map(disposeEngineHost))
  }
}
