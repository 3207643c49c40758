import { Server, ServerCredentials } from '@grpc/grpc-js'
import { ReflectionService } from '@grpc/reflection'
import type { ApiContext } from '@cy/http'
import { HealthImplementation } from 'grpc-health-check'
import { checkCallKey } from './call-guard.ts'
import { AI_SERVICE, loadServiceDefinitions, TRAINING_SERVICE } from './service-definitions.ts'
import { streamPredict } from './stream-predict.ts'
import { trainingService } from './training-service.ts'

export interface GrpcServerOptions {
  /** How long `stop` waits for calls in flight before it cuts them (default 5000 ms). */
  shutdownTimeoutMs?: number
}

/** `host:port` for grpc-js (and the banner), with an IPv6 address in brackets. */
export function grpcAddress(host: string, port: number): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`
}

/**
 * The engine's gRPC server beside the HTTP one, on the same models, dispatcher and keys: AIService
 * (StreamPredict), TrainingService (on the context's trainer; UNIMPLEMENTED without one), `grpc.health.v1.Health`
 * and server reflection. Health and reflection are open, as `/health` and `/openapi.json` are; the rest needs the key.
 */
export class GrpcServer {
  readonly #server = new Server()
  readonly #health: HealthImplementation
  readonly #shutdownTimeoutMs: number
  readonly #ctx: ApiContext
  #port: number | undefined

  constructor(ctx: ApiContext, options: GrpcServerOptions = {}) {
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5000
    this.#ctx = ctx
    const definitions = loadServiceDefinitions()
    const checkKey = checkCallKey.bind(undefined, ctx.apiKeys)
    this.#server.addService(definitions.aiService, { StreamPredict: streamPredict(ctx, checkKey) })
    this.#server.addService(definitions.trainingService, trainingService(ctx, checkKey))
    // '' is the server as a whole; a service's own entry says whether it serves.
    this.#health = new HealthImplementation({ '': 'SERVING', [AI_SERVICE]: 'SERVING', [TRAINING_SERVICE]: 'NOT_SERVING' })
    this.#health.addToServer(this.#server)
    new ReflectionService(definitions.packageDefinition).addToServer(this.#server)
  }

  /** Listens on `host:port` (0 picks a free port); resolves with the bound port. */
  async start(port: number, host = '127.0.0.1'): Promise<number> {
    // The server app sets the trainer before it starts serving: health says whether TrainingService serves.
    this.#health.setStatus(TRAINING_SERVICE, this.#ctx.training ? 'SERVING' : 'NOT_SERVING')
    this.#port = await new Promise<number>((resolve, reject) =>
      this.#server.bindAsync(grpcAddress(host, port), ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    )
    return this.#port
  }

  get port(): number | undefined {
    return this.#port
  }

  /** Health says NOT_SERVING from now on (a drain: load balancers stop sending calls). */
  draining(): void {
    this.#health.setStatus('', 'NOT_SERVING')
    this.#health.setStatus(AI_SERVICE, 'NOT_SERVING')
    this.#health.setStatus(TRAINING_SERVICE, 'NOT_SERVING')
  }

  /** Stops taking calls at once, waits for those in flight (up to `timeoutMs`, default the shutdown timeout), then cuts the rest. */
  async stop(timeoutMs = this.#shutdownTimeoutMs): Promise<void> {
    if (this.#port === undefined) return
    this.#port = undefined
    this.draining()
    let timer: ReturnType<typeof setTimeout> | undefined
    await new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#server.forceShutdown()
        resolve()
      }, timeoutMs)
      this.#server.tryShutdown(() => resolve())
    })
    clearTimeout(timer)
  }
}
