import { ServiceUnavailableError, TrainingJobNotFoundError, type TrainingJobs, type TrainingListener, type TrainingListOptions, type TrainingRequest } from '@cy/core'
import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { DiscoveredAdapter } from './adapter-discovery.ts'
import type { TrainingAppOptions } from './app-options.ts'
import type { ModelManager } from './model-manager.ts'

export const DEFAULT_TRAINING_DIR = './data/training'

/** Where training keeps its jobs and finds and puts its files, every folder absolute. */
export interface TrainingFolders {
  dir: string
  dataDirs: string[]
  outputDirs: string[]
  /** `<model name>/` in it: each served model's trained adapters. */
  adaptersDir: string
}

/** The folders for the options, or undefined when training is off or no installed adapter trains. */
export function trainingFolders(options: TrainingAppOptions = {}, adapters: DiscoveredAdapter[]): TrainingFolders | undefined {
  if (options.off || !adapters.some((entry) => entry.adapter.training)) return undefined
  const dir = resolve(options.dir ?? DEFAULT_TRAINING_DIR)
  return {
    dir,
    dataDirs: (options.dataDirs ?? [join(dir, 'datasets')]).map((folder) => resolve(folder)),
    outputDirs: (options.outputDirs ?? [join(dir, 'output')]).map((folder) => resolve(folder)),
    adaptersDir: join(dir, 'adapters'),
  }
}

/**
 * The trainer of the first installed adapter that trains, on its served models: a `baseModel` id is one
 * of them (an alias names its model). It opens its job store (and makes its folders) at the first start, or at
 * once when a store is there already (its queued jobs run again): a server nobody trains on writes nothing.
 */
export function startTrainer(folders: TrainingFolders, options: TrainingAppOptions, adapters: DiscoveredAdapter[], models: ModelManager, log: (line: string) => void): TrainingJobs {
  const storePath = join(folders.dir, 'jobs.sqlite')
  const stored = existsSync(storePath)
  const trainer = new LazyTrainer(() => createTrainer(folders, storePath, options, adapters, models, log), stored)
  if (stored) {
    try {
      trainer.open()
    } catch (error) {
      log(`training: ${(error as Error).message}`)
    }
  }
  return trainer
}

function createTrainer(folders: TrainingFolders, storePath: string, options: TrainingAppOptions, adapters: DiscoveredAdapter[], models: ModelManager, log: (line: string) => void): TrainingJobs {
  const { adapter } = adapters.find((entry) => entry.adapter.training)!
  for (const folder of [folders.dir, ...folders.dataDirs, ...folders.outputDirs, folders.adaptersDir]) mkdirSync(folder, { recursive: true })
  const own = (name: string) => {
    const config = models.config(name)
    return config?.adapter === adapter.manifest.name ? config : undefined
  }
  return adapter.training!.createTrainer({
    storePath,
    allowedDataDirs: folders.dataDirs,
    allowedOutputDirs: folders.outputDirs,
    resolveModel: own,
    modelNames: () => models.models().flatMap(({ config }) => (config.adapter === adapter.manifest.name ? [config.name] : [])),
    ...(options.threads ? { threads: options.threads } : {}),
    log,
  })
}

/**
 * TrainingJobs made on first use: by a start, or by any call once a store exists (one found at start that
 * could not open yet). Reads of a server that never trained touch no file: no jobs, none found.
 */
class LazyTrainer implements TrainingJobs {
  #jobs: TrainingJobs | undefined
  constructor(
    readonly create: () => TrainingJobs,
    /** Whether the store file was there at start. */
    readonly stored: boolean,
  ) {}

  /** A store that cannot open (another server owns it) is the client's 503, tried again on the next call. */
  open(): TrainingJobs {
    try {
      return (this.#jobs ??= this.create())
    } catch (error) {
      throw new ServiceUnavailableError(`Training is unavailable: ${(error as Error).message}`)
    }
  }
  /** The jobs for a call that reads or changes one: none yet when no store was ever made. */
  #existing(): TrainingJobs | undefined {
    return this.#jobs ?? (this.stored ? this.open() : undefined)
  }
  #job(id: string): TrainingJobs {
    const jobs = this.#existing()
    if (!jobs) throw new TrainingJobNotFoundError(id)
    return jobs
  }
  start(request: TrainingRequest) {
    return this.open().start(request)
  }
  status(id: string) {
    return this.#job(id).status(id)
  }
  list(options?: TrainingListOptions) {
    return this.#existing()?.list(options) ?? { jobs: [], total: 0 }
  }
  cancel(id: string) {
    return this.#job(id).cancel(id)
  }
  pause(id: string) {
    return this.#job(id).pause(id)
  }
  resume(id: string) {
    return this.#job(id).resume(id)
  }
  // Opens: gRPC's StartTraining subscribes before it starts its job.
  subscribe(listener: TrainingListener, id?: string) {
    return this.open().subscribe(listener, id)
  }
  async close() {
    await this.#jobs?.close()
  }
}
