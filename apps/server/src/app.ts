import { Server } from '@cy/http'
import { findAdapterPackages, loadAdapters } from './adapter-discovery.ts'
import type { AppOptions } from './app-options.ts'
import { banner } from './banner.ts'
import { loadConfigFile, type ConfigFile } from './config-file.ts'
import { loadModels } from './model-loader.ts'
import { scanModelsFolder } from './models-folder.ts'

export interface RunningApp {
  server: Server
  url: string
  banner: string
  stop(): Promise<void>
}

/** Discovers adapters, loads the configured and found models, and starts the server. */
export async function startApp(cli: AppOptions, log: (line: string) => void = console.error): Promise<RunningApp> {
  const config: ConfigFile = cli.configPath ? await loadConfigFile(cli.configPath) : { models: [], adapters: {}, aliases: {}, server: {} }
  const settings = config.server
  const server = new Server({
    port: cli.port,
    hostname: cli.host,
    ...(cli.apiKey ?? settings.apiKey ? { apiKey: (cli.apiKey ?? settings.apiKey)! } : {}),
    ...(cli.maxConcurrency ?? settings.maxConcurrency ? { maxConcurrency: (cli.maxConcurrency ?? settings.maxConcurrency)! } : {}),
    ...(cli.maxQueue ?? settings.maxQueue ? { maxQueue: (cli.maxQueue ?? settings.maxQueue)! } : {}),
    ...(cli.timeoutMs ?? settings.timeoutMs) !== undefined ? { timeoutMs: (cli.timeoutMs ?? settings.timeoutMs)! } : {},
  })

  const packages = findAdapterPackages([process.cwd(), import.meta.dir], cli.adapterPaths)
  const adapters = await loadAdapters(packages, config.adapters)
  const folder = await scanModelsFolder(settings.modelsDir ?? cli.modelsDir, adapters)
  const configured = new Set(config.models.map((model) => model.name))
  const configs = [...config.models, ...folder.models.filter((model) => !configured.has(model.name))]
  const { loaded } = await loadModels(server, configs, adapters, log)
  for (const [alias, target] of Object.entries(config.aliases)) {
    const entry = loaded.find(({ config: model }) => model.name === target)
    if (entry) server.registerModel(alias, entry.model.providers, { ownedBy: entry.config.adapter, metadata: { aliasOf: target } })
    else log(`alias '${alias}' points at '${target}', which is not loaded`)
  }

  const { url } = await server.start()
  const text = banner({ url, adapters, models: loaded, unclaimed: folder.unclaimed, apiKey: Boolean(cli.apiKey ?? settings.apiKey) })
  return {
    server,
    url,
    banner: text,
    async stop() {
      await server.stop()
      for (const { model } of loaded) await model.dispose()
    },
  }
}
