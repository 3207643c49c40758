import { ProviderError, WorkerHost, type OutputSink, disposeEngineHost } from '@cy/core'
import type { EngineOptions, GenerateRequest } from './engine/generate-args.ts'

const ENGINE_WORKER = new URL('./engine/engine-worker.ts', import.meta.url)

/** What a loaded context reports. */
export interface SdEngineInfo {
  commit: string
  samplers: string[]
  schedulers: string[]
}

interface PoolMember {
  host: WorkerHost
  /** The calls it runs, each cancellable by dispose. */
  running: Set<AbortController>
}

/** An output whose signal also fires when the pool cancels the call (dispose). */
function cancellable(out: OutputSink, controller: AbortController): OutputSink {
  const signal = AbortSignal.any([out.signal, controller.signal])
  return {
    signal,
    push: (chunk) => out.push(chunk),
    ready: () => out.ready(),
    end: () => out.end(),
    fail: (error) => out.fail(error),
    get closed() {
      return out.closed || signal.aborted
    },
  }
}

/**
 * A model's contexts, `parallel` of them, each a full copy of the weights on a Worker of its own
 * (stable-diffusion.cpp's contexts share nothing, and generate one image batch at a time). It runs in the
 * model's relay (see engine-process.ts): in an engine process, or in a Worker of the server's process.
 */
export class SdPool {
  private constructor(
    readonly members: PoolMember[],
    readonly info: SdEngineInfo,
  ) {}

  /** `onExit`: a Worker died by itself (its calls have failed already). */
  static async load(options: EngineOptions & { parallel: number }, name: string, onExit?: (error: ProviderError) => void): Promise<SdPool> {
    const members: PoolMember[] = []
    try {
      let info: SdEngineInfo | undefined
      for (let i = 0; i < options.parallel; i++) {
        const host = new WorkerHost(ENGINE_WORKER, { name: `sdxl:${name}${i ? `:${i}` : ''}`, ...(onExit ? { onExit } : {}) })
        members.push({ host, running: new Set() })
        info = await host.call<SdEngineInfo>('load', options)
      }
      return new SdPool(members, info!)
    } catch (error) {
      for (const member of members.reverse()) member.host.terminate()
      throw error
    }
  }

  /** Generates on the least busy context (the server runs at most `parallel` at once); the uploads' buffers move to it. */
  async generate(request: GenerateRequest, out: OutputSink): Promise<void> {
    const member = this.members.reduce((best, candidate) => (candidate.running.size < best.running.size ? candidate : best))
    const controller = new AbortController()
    member.running.add(controller)
    const transfer = [...(request.images ?? []), ...(request.mask ? [request.mask] : [])].map((bytes) => bytes.buffer as ArrayBuffer)
    try {
      await member.host.call('generate', request, cancellable(out, controller), [...new Set(transfer)])
    } catch (error) {
      // Stopped by dispose, not by the client: the request failed, it was not cancelled.
      if (controller.signal.aborted && !out.signal.aborted) throw new ProviderError('The model was unloaded')
      throw error
    } finally {
      member.running.delete(controller)
    }
  }

  /**
   * Stops what runs (the cancel reaches the sampler within a step), then frees each context once its
   * Worker is back from generate_image: a context is never freed under a running generation.
   */
  async dispose(): Promise<void> {
    for (const member of this.members) for (const controller of member.running) controller.abort()
    for (const member of [...this.members].reverse()) {
      await disposeEngineHost(member.host)
    }
  }
}
