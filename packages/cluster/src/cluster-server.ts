import type { Providers, RegisterOptions } from '@cy/core'
import { ModelRegistrar, Server, type ServerOptions } from '@cy/http'
import { MasterNode, type WorkerStatus } from './master-node.ts'
import { CLUSTER_MAGIC, INTERNAL_PORT_OFFSET, PATHS } from './protocol.ts'
import { WorkerNode } from './worker-node.ts'

export interface ClusterOptions {
  /** Shared by the master and its workers; without it the internal port accepts anyone. Default: CY_CLUSTER_SECRET. */
  secret?: string
  /** This worker's id (default: generated). */
  workerId?: string
  /** How often a worker says it is alive, in ms (default 5000). */
  heartbeatIntervalMs?: number
  /** How long the master waits for a silent worker before withdrawing its models, in ms (default 30000). */
  workerTimeoutMs?: number
  /** On a master: several workers may register the same model name, and requests go to the one with the fewest in flight (default false). */
  allowReplicas?: boolean
  /** Options for the OpenAI API server (a master's; a worker's own local one is never listened on). */
  server?: Omit<ServerOptions, 'port'>
  log?: (line: string) => void
}

export type ClusterMode = 'standalone' | 'master' | 'worker'

/** Is `port` on `host` one of our masters' internal ports? */
async function isMasterInternal(host: string, port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://${host}:${port}${PATHS.hello}`, { signal: AbortSignal.timeout(2000) })
    return response.ok && ((await response.json()) as { magic?: string }).magic === CLUSTER_MAGIC
  } catch {
    return false
  }
}

async function portIsFree(port: number, host: string): Promise<boolean> {
  try {
    const probe = Bun.listen({ hostname: host, port, socket: { data() {} } })
    probe.stop(true)
    return true
  } catch {
    return false
  }
}

/**
 * The seed's cluster mode: a master serves the OpenAI API (and its own models) on its port and the
 * cluster protocol on port + 1000; workers register their models there and the master forwards
 * requests to them. Register models first, then run.
 */
export class ClusterServer extends ModelRegistrar {
  readonly #server: Server
  readonly #options: ClusterOptions
  #mode: ClusterMode = 'standalone'
  #master: MasterNode | undefined
  #worker: WorkerNode | undefined
  #listen = { host: '0.0.0.0', port: 0 }
  #masterUrl: string | undefined

  constructor(options: ClusterOptions = {}) {
    super()
    this.#options = { ...options, secret: options.secret ?? process.env.CY_CLUSTER_SECRET }
    this.#server = new Server({ ...options.server, port: 0 })
  }

  getMode(): ClusterMode {
    return this.#mode
  }

  isRunning(): boolean {
    return this.#mode !== 'standalone'
  }

  /** The OpenAI API server (the master's; a worker's holds its models). */
  getServer(): Server {
    return this.#server
  }

  /** The worker side, when running as a worker. */
  getWorkerClient(): WorkerNode | undefined {
    return this.#worker
  }

  /** The OpenAI API clients should call: the master's (this server's own when it is the master). */
  getMasterUrl(): string | undefined {
    return this.#mode === 'master' ? this.#server.url : this.#masterUrl
  }

  /** Where this worker can be reached from the master's machine; port 0 picks a free one. */
  setWorkerListenAddress(host: string, port: number): this {
    this.#listen = { host, port }
    return this
  }

  /** Registers locally; a running worker also registers the model at its master (a taken name fails there). */
  override registerModel(name: string, providers: Providers, options?: RegisterOptions): this {
    this.#server.registerModel(name, providers, options)
    if (this.#worker?.connected) {
      void this.#worker.register(name).catch((error: Error) => {
        this.#server.unregisterModel(name)
        this.#log(`model '${name}' refused by the master: ${error.message}`)
      })
    }
    return this
  }

  /** Withdraws a model here and, for a worker, at the master at once. */
  unregisterModel(name: string): boolean {
    const removed = this.#server.unregisterModel(name)
    if (removed && this.#worker) void this.#worker.withdraw(name)
    return removed
  }

  listModels(): string[] {
    return this.#server.listModels()
  }

  hasModel(name: string): boolean {
    return this.#server.hasModel(name)
  }

  async runAsMaster(port: number, host = this.#options.server?.hostname ?? '0.0.0.0'): Promise<void> {
    this.#assertIdle()
    const master = new MasterNode(this.#server, {
      secret: this.#options.secret,
      heartbeatIntervalMs: this.#options.heartbeatIntervalMs ?? 5000,
      workerTimeoutMs: this.#options.workerTimeoutMs ?? 30_000,
      allowReplicas: this.#options.allowReplicas ?? false,
    })
    await this.#server.start(port)
    try {
      master.start(this.#server.port + INTERNAL_PORT_OFFSET, host)
    } catch (error) {
      await this.#server.stop()
      throw new Error(`The cluster port ${this.#server.port + INTERNAL_PORT_OFFSET} (API port + ${INTERNAL_PORT_OFFSET}) is taken: ${(error as Error).message}`)
    }
    this.#server.setHealthDetail('cluster', () => ({ mode: 'master', internal_port: master.internalPort, workers: master.status() }))
    this.#master = master
    this.#mode = 'master'
  }

  /** Joins the master on `host`; `masterPort` may be its internal port or its API port (+1000 is then added). */
  async runAsWorker(host: string, masterPort: number): Promise<void> {
    this.#assertIdle()
    const internal = (await isMasterInternal(host, masterPort)) ? masterPort : masterPort + INTERNAL_PORT_OFFSET
    if (!(await isMasterInternal(host, internal))) throw new Error(`No cy master answers at ${host}:${masterPort} (nor on ${internal})`)
    const worker = new WorkerNode(this.#server, {
      workerId: this.#options.workerId ?? `worker-${crypto.randomUUID().slice(0, 8)}`,
      secret: this.#options.secret,
      listenHost: this.#listen.host,
      listenPort: this.#listen.port,
      masterUrl: `http://${host.includes(':') ? `[${host}]` : host}:${internal}`,
      heartbeatIntervalMs: this.#options.heartbeatIntervalMs ?? 5000,
      log: (line) => this.#log(line),
    })
    await worker.start()
    this.#masterUrl = `http://${host.includes(':') ? `[${host}]` : host}:${internal - INTERNAL_PORT_OFFSET}`
    this.#worker = worker
    this.#mode = 'worker'
  }

  /**
   * Master or worker by what the port holds: free → master; one of our masters → worker of it; anything
   * else → an error naming the port.
   */
  async run(port: number, host = '127.0.0.1'): Promise<ClusterMode> {
    if (await portIsFree(port, '0.0.0.0')) {
      await this.runAsMaster(port)
      return 'master'
    }
    if (await isMasterInternal(host, port + INTERNAL_PORT_OFFSET)) {
      await this.runAsWorker(host, port + INTERNAL_PORT_OFFSET)
      return 'worker'
    }
    throw new Error(`Port ${port} is in use by something that is not a cy master`)
  }

  async stop(): Promise<void> {
    await this.#worker?.stop()
    await this.#master?.stop()
    this.#server.setHealthDetail('cluster', null)
    if (this.#server.isRunning) await this.#server.stop()
    this.#worker = undefined
    this.#master = undefined
    this.#masterUrl = undefined
    this.#mode = 'standalone'
  }

  /** The master's view of its workers (what `/health` reports under `cluster`). */
  workers(): WorkerStatus[] {
    return this.#master?.status() ?? []
  }

  #assertIdle(): void {
    if (this.#mode !== 'standalone') throw new Error(`Already running as ${this.#mode}`)
  }

  #log(line: string): void {
    ;(this.#options.log ?? ((text: string) => console.error(`[cluster] ${text}`)))(line)
  }
}
