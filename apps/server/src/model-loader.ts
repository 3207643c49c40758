import type { LoadedModel, ModelConfig } from '@cy/core'
import type { ModelRegistrar } from '@cy/http'
import type { DiscoveredAdapter } from './adapter-discovery.ts'

export interface LoadedEntry {
  config: ModelConfig
  model: LoadedModel
}

/** Loads each model with its adapter and registers it; a model that fails is reported, not fatal. */
export async function loadModels(
  server: ModelRegistrar,
  configs: ModelConfig[],
  adapters: DiscoveredAdapter[],
  log: (line: string) => void,
): Promise<{ loaded: LoadedEntry[]; failed: Array<{ config: ModelConfig; error: string }> }> {
  const byName = new Map(adapters.map((entry) => [entry.adapter.manifest.name, entry]))
  const loaded: LoadedEntry[] = []
  const failed: Array<{ config: ModelConfig; error: string }> = []
  for (const config of configs) {
    const entry = byName.get(config.adapter)
    try {
      if (!entry) throw new Error(`no installed adapter is named '${config.adapter}' (installed: ${[...byName.keys()].join(', ') || 'none'})`)
      const model = await entry.adapter.load(config)
      try {
        server.registerModel(config.name, model.providers, {
          ownedBy: entry.adapter.manifest.name,
          metadata: { adapter: entry.adapter.manifest.name, engine: entry.adapter.manifest.engine, path: config.path, ...model.metadata },
          ...(model.toolCalls ? { toolCalls: model.toolCalls } : {}),
          ...(model.supports ? { supports: model.supports } : {}),
          ...(model.limits ? { limits: model.limits } : {}),
        })
      } catch (error) {
        await model.dispose()
        throw error
      }
      loaded.push({ config, model })
    } catch (error) {
      const message = (error as Error).message
      failed.push({ config, error: message })
      log(`model '${config.name}' was not loaded: ${message}`)
    }
  }
  return { loaded, failed }
}
