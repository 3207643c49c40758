import type { LogLevel } from '@cy/http'
import type { CliSettings } from './server-settings.ts'

/**
 * Everything the server app can be told by flags and environment. The server settings are only those
 * set there: resolveSettings fills the rest from the config file, then the defaults.
 */
export interface AppOptions extends CliSettings {
  /** A JSON or YAML file naming models, their adapter, file and options. */
  configPath?: string
  /** Where to look for adapter packages besides the usual node_modules folders. */
  adapterPaths: string[]
  /** Print nothing but errors. */
  quiet: boolean
  /** The lowest level the logger writes (access lines are `info`; default `info`). */
  logLevel?: LogLevel
  /** Serve `/metrics` without the API key. */
  metricsPublic?: boolean
  /** After the drain, the longest freeing the engines may take (ms) before the process exits anyway. */
  shutdownTimeoutMs?: number
  /** How long a stop lets requests in flight finish (ms) before it ends them with an error. */
  drainTimeoutMs?: number
  /** Models loaded at once at most; the least recently used idle one is unloaded to make room. */
  maxLoadedModels?: number
  /** Bytes of model files loaded at once at most, the same way. */
  maxMemoryBytes?: number
  /** The model catalog YAML (default: the one shipped in apps/server/catalog/models.yaml). */
  catalogPath?: string
  /** Catalog ids or `org/repo[:file or quant]` to download before serving (`--pull`). */
  pull?: string[]
  /** Cluster mode: a master, a worker of one, or whichever `--port` calls for. */
  cluster?: ClusterAppOptions
  /** Training jobs (`/api/v1/training`, gRPC TrainingService). */
  training?: TrainingAppOptions
}

export interface TrainingAppOptions {
  /** No training routes answer but "training is off". */
  off?: boolean
  /** Holds jobs.sqlite, and by default datasets/, output/ and adapters/<model>/ (default ./data/training). */
  dir?: string
  /** Folders a datasetPath (or a baseModel path) must be inside (default <dir>/datasets). */
  dataDirs?: string[]
  /** Folders an outputDir must be inside (default <dir>/output). */
  outputDirs?: string[]
  /** A job's engine threads when its request names none (default: every core). */
  threads?: number
}

export interface ClusterAppOptions {
  mode: 'master' | 'worker' | 'auto'
  /** Where a worker finds its master (its API port or internal port). */
  masterHost: string
  masterPort: number
  secret?: string
  workerId?: string
  /** Where this worker listens for the master (port 0: a free one). */
  workerHost: string
  workerPort: number
  allowReplicas: boolean
}
