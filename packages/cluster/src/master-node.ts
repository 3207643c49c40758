import { CAPABILITIES, ConflictError, NotFoundError, type ModelStatus } from '@cy/core'
import { errorResponse, parseError, type Server } from '@cy/http'
import { serveInternal } from './internal-server.ts'
import { CLUSTER_MAGIC, PATHS, type Handshake, type Registration, type StatusReport } from './protocol.ts'
import { remoteProviders } from './remote-providers.ts'
import { RequestVerifier } from './request-signature.ts'
import { ReplicaSet, type RemoteWorker } from './replica-set.ts'
import { signRequest } from './request-signature.ts'
import { checkStatus } from './status-check.ts'

interface WorkerRecord extends RemoteWorker {
  models: Set<string>
  lastHeartbeat: number
}

export interface MasterOptions {
  secret: string | undefined
  heartbeatIntervalMs: number
  workerTimeoutMs: number
  /** How far a call's signing time may be from this clock (default 30 s). */
  signatureWindowMs?: number
  /** Several workers may register one name; requests go to the least busy (default false: the seed's conflict rule). */
  allowReplicas: boolean
}

/** A worker as `/health` reports it. */
export interface WorkerStatus {
  id: string
  url: string
  models: string[]
  last_heartbeat: string
  in_flight: number
}

const json = (body: unknown, status = 200) => Response.json(body, { status })

/**
 * The master's internal side: workers introduce themselves (with the cluster secret), register their
 * models into the master's registry as remote providers, and heart-beat; a worker that goes quiet past
 * the timeout loses its models.
 */
export class MasterNode {
  readonly workers = new Map<string, WorkerRecord>()
  readonly #replicas = new Map<string, ReplicaSet>()
  readonly #verifier: RequestVerifier
  #internal: ReturnType<typeof Bun.serve> | undefined
  #sweeper: ReturnType<typeof setInterval> | undefined

  constructor(
    readonly server: Server,
    readonly options: MasterOptions,
  ) {
    this.#verifier = new RequestVerifier(options.secret, options.signatureWindowMs === undefined ? {} : { windowMs: options.signatureWindowMs })
  }

  get internalPort(): number | undefined {
    return this.#internal?.port
  }

  start(port: number, hostname: string): void {
    const parsed = (body: Uint8Array): Record<string, unknown> => {
      try {
        return JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>
      } catch (error) {
        throw parseError(error)
      }
    }
    this.#internal = serveInternal({
      hostname,
      port,
      verifier: this.#verifier,
      // Registrations and heartbeats are small.
      maxBodyBytes: 1024 * 1024,
      open: { [PATHS.hello]: () => json({ magic: CLUSTER_MAGIC }) },
      routes: {
        [PATHS.handshake]: (body, request, bun) => this.#handshake(parsed(body) as unknown as Handshake & { port?: number; host?: string }, bun.requestIP(request)?.address),
        [PATHS.register]: (body) => this.#register(parsed(body) as unknown as Registration),
        [PATHS.unregister]: (body) => {
          const { workerId, model } = parsed(body)
          return this.#unregister(String(workerId), String(model))
        },
        [PATHS.status]: (body) => this.#status(parsed(body) as unknown as StatusReport),
        [PATHS.heartbeat]: (body) => {
          const worker = this.workers.get(String(parsed(body).workerId))
          if (!worker) throw new NotFoundError('Unknown worker: introduce yourself again', { code: 'unknown_worker' })
          worker.lastHeartbeat = Date.now()
          worker.failedAt = 0
          return json({ ok: true })
        },
      },
    })
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(50, Math.floor(this.options.heartbeatIntervalMs / 2)))
  }

  async stop(): Promise<void> {
    clearInterval(this.#sweeper)
    await this.#internal?.stop(true)
    this.#internal = undefined
  }

  #handshake(hello: Handshake & { port?: number; host?: string }, remoteAddress: string | undefined): Response {
    if (hello.magic !== CLUSTER_MAGIC) return json({ error: { message: `Expected protocol ${CLUSTER_MAGIC}`, type: 'invalid_request_error', param: 'magic', code: 'protocol_mismatch' } }, 400)
    // A worker listening on every interface is reached at the address it called from.
    const host = !hello.host || hello.host === '0.0.0.0' || hello.host === '::' ? remoteAddress : hello.host
    const url = hello.url ?? `http://${host?.includes(':') ? `[${host}]` : host}:${hello.port}`
    this.#drop(hello.workerId)
    this.workers.set(hello.workerId, { id: hello.workerId, url, secret: this.options.secret, inFlight: 0, failedAt: 0, models: new Set(), lastHeartbeat: Date.now() })
    return json({ magic: CLUSTER_MAGIC, heartbeatIntervalMs: this.options.heartbeatIntervalMs })
  }

  #register(registration: Registration): Response {
    const worker = this.workers.get(registration.workerId)
    if (!worker) return errorResponse(new NotFoundError('Unknown worker: introduce yourself again', { code: 'unknown_worker' }))
    const { model } = registration
    const status = registration.status === undefined ? { state: 'ready' as const } : checkStatus(registration.status)
    const capabilities = CAPABILITIES.filter((capability) => registration.capabilities.includes(capability))
    const existing = this.#replicas.get(model)
    if (existing) {
      const same = existing.capabilities.join() === capabilities.join()
      if (!this.options.allowReplicas || !same) {
        const why = this.options.allowReplicas ? `with other capabilities (${existing.capabilities.join(', ')})` : 'by another worker'
        return errorResponse(new ConflictError(`Model '${model}' is already registered ${why}`, { param: 'model', code: 'model_already_registered' }))
      }
      existing.add(worker, status)
      this.#publish(existing)
    } else {
      const tools = {
        ...(registration.toolCalls ? { toolCalls: registration.toolCalls } : {}),
        ...(registration.toolValidation ? { toolValidation: registration.toolValidation } : {}),
        ...(registration.supports ? { supports: registration.supports } : {}),
      }
      const replicas = new ReplicaSet(model, capabilities, tools)
      replicas.add(worker, status)
      try {
        this.#publish(replicas)
      } catch (error) {
        if (!(error instanceof ConflictError)) return errorResponse(error)
        return errorResponse(new ConflictError(`Model '${model}' is already registered (by the master or another worker)`, { param: 'model', code: 'model_already_registered' }))
      }
      this.#replicas.set(model, replicas)
    }
    worker.models.add(model)
    return json({ ok: true })
  }

  /** (Re)registers a replica set's model, so `owned_by` and the metadata name its workers now. */
  #publish(replicas: ReplicaSet): void {
    const owners = replicas.workers.map((w) => w.id)
    if (this.#replicas.get(replicas.model) === replicas) this.server.unregisterModel(replicas.model)
    this.server.registerModel(replicas.model, remoteProviders(replicas), { ownedBy: owners.join(','), metadata: { workers: owners }, ...replicas.tools, status: replicas.status })
    this.server.registry.setLifecycle(replicas.model, { autoload: () => this.#autoload(replicas) })
  }

  /** A worker's model became ready, failed, or was unloaded: the master's state follows. */
  #status(report: StatusReport): Response {
    const worker = this.workers.get(String(report.workerId))
    if (!worker) return errorResponse(new NotFoundError('Unknown worker: introduce yourself again', { code: 'unknown_worker' }))
    const status = checkStatus(report.status)
    const replicas = this.#replicas.get(String(report.model))
    if (replicas && worker.models.has(replicas.model)) {
      replicas.setStatus(worker, status)
      this.server.registry.setStatus(replicas.model, replicas.status)
    }
    return json({ ok: true })
  }

  /**
   * A request found the model unloaded at every worker: the first that holds it unloaded starts its load
   * (its own reports then move the state on). `loading` is set before this returns, as the dispatcher expects.
   */
  #autoload(replicas: ReplicaSet): void {
    const worker = replicas.workers.find((w) => replicas.statusOf(w)?.state === 'unloaded')
    if (!worker) return
    const before = replicas.statusOf(worker)!
    const settle = (status: ModelStatus) => {
      replicas.setStatus(worker, status)
      if (this.#replicas.get(replicas.model) === replicas) this.server.registry.setStatus(replicas.model, replicas.status)
    }
    settle({ state: 'loading', progress: { stage: `queued on worker '${worker.id}'` } })
    const text = JSON.stringify({ model: replicas.model })
    void fetch(`${worker.url}${PATHS.load}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(worker.secret, 'POST', PATHS.load, text) }, body: text })
      .then(async (response) => {
        const answer = (await response.json()) as { status?: unknown }
        if (!response.ok) throw new Error(`worker '${worker.id}' answered ${response.status}`)
        const status = checkStatus(answer.status)
        // A load that did not start (held unloaded there) is the answer; one that did reports on its own.
        if (status.state === 'unloaded' || status.state === 'failed') settle(status)
      })
      .catch((error: Error) => settle({ ...before, reason: `the load on worker '${worker.id}' did not start: ${error.message}` }))
  }

  #unregister(workerId: string, model: string): Response {
    const worker = this.workers.get(workerId)
    if (worker?.models.delete(model)) this.#withdraw(worker, model)
    return json({ ok: true })
  }

  #withdraw(worker: WorkerRecord, model: string): void {
    const replicas = this.#replicas.get(model)
    if (!replicas) return
    replicas.remove(worker)
    if (replicas.size > 0) return this.#publish(replicas)
    this.#replicas.delete(model)
    this.server.unregisterModel(model)
  }

  /** The workers, their models, last heartbeat and requests in flight, for `/health`. */
  status(): WorkerStatus[] {
    return [...this.workers.values()].map((w) => ({
      id: w.id,
      url: w.url,
      models: [...w.models],
      last_heartbeat: new Date(w.lastHeartbeat).toISOString(),
      in_flight: w.inFlight,
    }))
  }

  /** Withdraws a worker and its models. */
  #drop(workerId: string): void {
    const worker = this.workers.get(workerId)
    if (!worker) return
    for (const model of worker.models) this.#withdraw(worker, model)
    this.workers.delete(workerId)
  }

  #sweep(): void {
    const deadline = Date.now() - this.options.workerTimeoutMs
    for (const worker of [...this.workers.values()]) if (worker.lastHeartbeat < deadline) this.#drop(worker.id)
  }
}
