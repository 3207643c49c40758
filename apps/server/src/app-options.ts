import type { GatewayOptions } from '@cy/gateway'

/** Everything the server app can be told, from flags, environment and the config file. */
export interface AppOptions {
  port: number
  host: string
  /** A JSON or YAML file naming models, their adapter, file and options. */
  configPath?: string
  /** A folder whose files installed adapters claim; each becomes a model named after the file. */
  modelsDir: string
  apiKey?: string
  maxConcurrency?: number
  maxQueue?: number
  /** Per-request time limit in ms. */
  timeoutMs?: number
  /** Where to look for adapter packages besides the usual node_modules folders. */
  adapterPaths: string[]
  /** Print nothing but errors. */
  quiet: boolean
  /** SQLite file for stored Responses API responses (default ./data/responses.sqlite). */
  responsesDb?: string
  /** Gateway settings from flags (the config file's `server.gateway` fills the rest). */
  gateway: GatewayOptions
  /** Cluster mode: a master, a worker of one, or whichever `--port` calls for. */
  cluster?: ClusterAppOptions
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
