import { ClusterServer } from '@cy/cluster'
import { grpcAddress, GrpcServer } from '@cy/grpc'
import { createLogger, Server, type ModelRegistrar, type ServerOptions } from '@cy/http'
import { findAdapterPackages, loadAdapters } from './adapter-discovery.ts'
import type { AppOptions, ClusterAppOptions } from './app-options.ts'
import { banner, pullHint } from './banner.ts'
import { serveCatalog } from './catalog/serve-catalog.ts'
import { loadConfigFile, type ConfigFile } from './config-file.ts'
import { followLoads } from './load-progress.ts'
import { ModelManager } from './model-manager.ts'
import { scanModelsFolder } from './models-folder.ts'
import { resolveSettings, type ServerSettings } from './server-settings.ts'
import { StartupError } from './startup-error.ts'
import { startTrainer, trainingFolders } from './training-setup.ts'
import { mkdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'

/** The library server's options for the merged settings. */
export function serverOptions(settings: ServerSettings): ServerOptions {
  const { host, port: _port, grpcPort: _grpcPort, modelsDir: _modelsDir, ...rest } = settings
  return { hostname: host, ...rest }
}

export interface RunningApp {
  server: Server
  /** The gRPC server, when `--grpc-port` is set (its `port` is the bound one). */
  grpc?: GrpcServer
  /** Set in cluster mode. */
  cluster?: ClusterServer
  url: string
  banner: string
  /** The model manager: states, loads and unloads. */
  models: ModelManager
  /** Settles when the eager models' loads have ended, loaded or not. */
  loads: Promise<void>
  /** Stops taking requests and lets those in flight finish for up to `drainMs`, then ends the rest with an error; resolves with how many. */
  drain(drainMs: number): Promise<number>
  /** Drains (for `drainMs`, default 0), then frees the engines. */
  stop(drainMs?: number): Promise<void>
}

/** Discovers adapters, loads the configured and found models, and starts the server. */
export async function startApp(cli: AppOptions, log: (line: string) => void = console.error): Promise<RunningApp> {
  const config: ConfigFile = cli.configPath ? await loadConfigFile(cli.configPath) : { models: [], adapters: {}, aliases: {}, server: {} }
  const settings = resolveSettings(cli, config.server, cli.configPath)
  if (settings.responsesDb !== ':memory:') await mkdir(dirname(resolve(settings.responsesDb)), { recursive: true })
  const options = { ...serverOptions(settings), logger: createLogger({ level: cli.logLevel ?? 'info' }), metricsPublic: cli.metricsPublic === true }
  const cluster = cli.cluster
    ? new ClusterServer({
        ...(cli.cluster.secret ? { secret: cli.cluster.secret } : {}),
        ...(cli.cluster.workerId ? { workerId: cli.cluster.workerId } : {}),
        allowReplicas: cli.cluster.allowReplicas,
        server: options,
        log,
      })
    : undefined
  const server = cluster?.getServer() ?? new Server({ ...options, port: settings.port })
  // In cluster mode models register through the cluster, so a worker also registers them at its master.
  const registrar: ModelRegistrar = cluster ?? server

  const packages = findAdapterPackages([process.cwd(), import.meta.dir], cli.adapterPaths)
  const adapters = await loadAdapters(packages, config.adapters)
  const folder = await scanModelsFolder(settings.modelsDir, adapters)
  const configured = new Set(config.models.map((model) => model.name))
  // The adapters' options come from the config file too, so their relative paths are relative to it for every model, found ones included.
  const configDir = cli.configPath ? dirname(resolve(cli.configPath)) : undefined
  const configs = [...config.models, ...folder.models.filter((model) => !configured.has(model.name))].map((model) => (configDir && !model.configDir ? { ...model, configDir } : model))
  const training = trainingFolders(cli.training, adapters)
  const models = new ModelManager({
    server,
    registrar,
    adapters,
    log,
    ...(training ? { trainingAdaptersDir: training.adaptersDir } : {}),
    ...(cli.maxLoadedModels !== undefined ? { maxLoadedModels: cli.maxLoadedModels } : {}),
    ...(cli.maxMemoryBytes !== undefined ? { maxMemoryBytes: cli.maxMemoryBytes } : {}),
  })
  for (const model of configs) await models.add(model)
  for (const [alias, target] of Object.entries(config.aliases)) {
    if (!models.alias(alias, target)) log(`alias '${alias}' points at '${target}', which is not configured`)
  }
  // The catalog's downloaded models (and `--pull`'s) join the configured and found ones; the rest answer model_not_downloaded.
  const { defaultId } = await serveCatalog({
    ...(cli.catalogPath ? { catalogPath: cli.catalogPath } : {}),
    ...(cli.pull?.length ? { pull: cli.pull } : {}),
    server,
    models,
    log,
    tty: process.stderr.isTTY === true && !cli.quiet,
  })
  server.setModelControl(models)
  const trainer = training ? startTrainer(training, cli.training ?? {}, adapters, models, log) : undefined
  server.setTraining(trainer)
  // The port opens (a worker joins its master) first and the models load behind it: a worker registers each
  // with its state and reports the changes, and the adapters' manifests give the tool settings up front.
  const stopProgress = followLoads({ registry: server.registry, names: () => models.models().map((model) => model.config.name), log, tty: process.stderr.isTTY === true && !cli.quiet })
  const loads = models.start()

  let url: string
  let role: string | undefined
  // On the same models, dispatcher and key as HTTP, bound to the same host.
  const grpc = settings.grpcPort === undefined ? undefined : new GrpcServer(server.context)
  try {
    if (grpc) await grpc.start(settings.grpcPort!, settings.host).catch((error: Error) => Promise.reject(new StartupError(`gRPC port ${settings.grpcPort}: ${error.message}`)))
    if (!cluster || !cli.cluster) url = (await server.start(settings.port)).url
    else ({ url, role } = await startCluster(cluster, cli.cluster, settings))
  } catch (error) {
    stopProgress()
    await grpc?.stop(0)
    await trainer?.close()
    await models.dispose()
    throw error
  }
  const drain = async (drainMs: number) => {
    // gRPC takes no new calls from now on; those in flight run on the registry, so the drain below waits for them (and ends the rest).
    const grpcStopped = grpc?.stop(drainMs + 1000)
    const cut = await server.drain(drainMs)
    await grpcStopped
    if (cut > 0) log(`${cut} request(s) still running after ${drainMs} ms were ended`)
    return cut
  }
  const text = banner({ url, adapters, models: models.models(), unclaimed: folder.unclaimed, apiKey: Boolean(settings.apiKey), host: settings.host, ...(role ? { cluster: role } : {}), ...(defaultId ? { pullHint: pullHint(defaultId) } : {}), ...(grpc?.port !== undefined ? { grpc: grpcAddress(settings.host, grpc.port) } : {}), ...(training && trainer ? { training } : {}) })
  return {
    server,
    ...(cluster ? { cluster } : {}),
    ...(grpc ? { grpc } : {}),
    url,
    banner: text,
    models,
    drain,
    async stop(drainMs = 0) {
      // Running jobs fail (the server stopped while they ran; queued ones wait for the next start), which
      // also ends their gRPC progress streams, so the drain does not wait on them.
      await trainer?.close()
      await drain(drainMs)
      if (cluster) await cluster.stop()
      await models.dispose()
      stopProgress()
    },
    loads,
  }
}

/** Runs as master, worker or either; resolves with the URL clients call and a line for the banner. */
async function startCluster(cluster: ClusterServer, settings: ClusterAppOptions, api: ServerSettings): Promise<{ url: string; role: string }> {
  cluster.setWorkerListenAddress(settings.workerHost, settings.workerPort)
  const secured = settings.secret ? 'cluster secret required' : 'no cluster secret: any worker may join'
  try {
    const mode =
      settings.mode === 'master'
        ? (await cluster.runAsMaster(api.port, api.host), 'master')
        : settings.mode === 'worker'
          ? (await cluster.runAsWorker(settings.masterHost, settings.masterPort), 'worker')
          : await cluster.run(api.port, settings.masterHost)
    const url = cluster.getMasterUrl()!
    if (mode === 'master') return { url, role: `master; workers join on port ${cluster.getServer().port + 1000} (${secured})` }
    return { url, role: `worker '${cluster.getWorkerClient()!.options.workerId}' of ${url}; clients call the master` }
  } catch (error) {
    throw new StartupError(`cluster ${settings.mode}: ${(error as Error).message}`)
  }
}
