import type { Providers } from '@cy/core'
import { isLoopbackName, ModelRegistrar, Server, type ModelOptions, type ServerOptions } from '@cy/http'
import { MasterNode, type WorkerStatus } from './master-node.ts'
import { CLUSTER_MAGIC, DEFAULT_MAX_BODY_BYTES, INTERNAL_PORT_OFFSET, PATHS } from './protocol.ts'
import { WorkerNode } from './worker-node.ts'

export interface ClusterOptions {
  /**
   * Shared by the master and its workers, which sign every internal call with it (HMAC; it never travels).
   * Without one, master and workers listen on loopback only. Default: CY_CLUSTER_SECRET.
   */
  secret?: string
  /** How far a signed call's time may be from the receiver's clock, either way, in ms (default 30000). */
  signatureWindowMs?: number
  /** This worker's id (default: generated). */
  workerId?: string
  /** How often a worker says it is alive, in ms (default 5000). */
  heartbeatIntervalMs?: number
  /** How long the master waits for a silent worker before withdrawing its models, in ms (default 30000). */
  workerTimeoutMs?: number
  /** On a master: several workers may register the same model name, and requests go to the one with the fewest in flight (default false). */
  allowReplicas?: boolean
  /**
   * Options for the OpenAI API server (a master's; a worker's own local one is never listened on). A worker
   * applies its `maxBodyBytes` (default 32 MiB) to forwarded requests too.
   */
  server?: Omit<ServerOptions, 'port'>
  log?: (line: string) => void
}

export type ClusterMode = 'standalone' | 'master' | 'worker'

const hostInUrl = (host: string) => (host.includes(':') ? `[${host}]` : host)

/**
 * Is `port` on `host` one of our masters' internal ports? A master of another protocol version is an
 * error that says so, not "nothing there".
 */
async function isMasterInternal(host: string, port: number): Promise<boolean> {
  let magic: unknown
  try {
    const response = await fetch(`http://${hostInUrl(host)}:${port}${PATHS.hello}`, { signal: AbortSignal.timeout(2000) })
    magic = response.ok ? ((await response.json()) as { magic?: unknown }).magic : undefined
  } catch {
    return false
  }
  if (typeof magic === 'string' && magic.startsWith('cy-cluster/') && magic !== CLUSTER_MAGIC) {
    throw new Error(`The cy master at ${host}:${port} speaks ${magic}; this node speaks ${CLUSTER_MAGIC}: run the same cy version on every node`)
  }
  return magic === CLUSTER_MAGIC
}

/** Without a secret the cluster protocol is unauthenticated: only this machine may reach it. */
function assertSafeToListen(host: string, secret: string | undefined): void {
  if (secret || isLoopbackName(host)) return
  throw new Error(
    `Refusing to serve the cluster protocol on ${host} without a cluster secret: anyone who can reach it could run requests on these models. Set a secret (--cluster-secret, CY_CLUSTER_SECRET) on the master and every worker, or listen on a loopback address (127.0.0.1)`,
  )
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
  #listen = { host: '127.0.0.1', port: 0 }
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
  override registerModel(name: string, providers: Providers, options?: ModelOptions): this {
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

  /** Serves the API on `port` and the cluster protocol on `port` + 1000, on `host` (default the API's, else loopback). */
  async runAsMaster(port: number, host = this.#options.server?.hostname ?? '127.0.0.1'): Promise<void> {
    this.#assertIdle()
    assertSafeToListen(host, this.#options.secret)
    const master = new MasterNode(this.#server, {
      secret: this.#options.secret,
      ...this.#window(),
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
    assertSafeToListen(this.#listen.host, this.#options.secret)
    const internal = (await isMasterInternal(host, masterPort)) ? masterPort : masterPort + INTERNAL_PORT_OFFSET
    if (!(await isMasterInternal(host, internal))) throw new Error(`No cy master answers at ${host}:${masterPort} (nor on ${internal})`)
    const worker = new WorkerNode(this.#server, {
      workerId: this.#options.workerId ?? `worker-${crypto.randomUUID().slice(0, 8)}`,
      secret: this.#options.secret,
      listenHost: this.#listen.host,
      listenPort: this.#listen.port,
      masterUrl: `http://${hostInUrl(host)}:${internal}`,
      heartbeatIntervalMs: this.#options.heartbeatIntervalMs ?? 5000,
      // The request as the master received it, whose bytes travel as base64 (a third more), plus room for
      // what the master adds (the tool bridge's prompt).
      maxBodyBytes: Math.ceil(((this.#options.server?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) * 4) / 3) + 64 * 1024,
      ...this.#window(),
      log: (line) => this.#log(line),
    })
    await worker.start()
    this.#masterUrl = `http://${hostInUrl(host)}:${internal - INTERNAL_PORT_OFFSET}`
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

  #window(): { signatureWindowMs?: number } {
    return this.#options.signatureWindowMs === undefined ? {} : { signatureWindowMs: this.#options.signatureWindowMs }
  }

  #assertIdle(): void {
    if (this.#mode !== 'standalone') throw new Error(`Already running as ${this.#mode}`)
  }

  #log(line: string): void {
    ;(this.#options.log ?? ((text: string) => console.error(`[cluster] ${text}`)))(line)
  }
}
