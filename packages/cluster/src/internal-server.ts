import { InternalError, NotFoundError, PayloadTooLargeError, PermissionDeniedError } from '@cy/core'
import { checkHost, errorResponse } from '@cy/http'
import type { RequestVerifier } from './request-signature.ts'

type BunServer = ReturnType<typeof Bun.serve>

/** A signed POST route: its body, read within the limit and checked against the signature. */
export type InternalRoute = (body: Uint8Array, request: Request, server: BunServer) => Promise<Response> | Response

export interface InternalServerOptions {
  hostname: string
  port: number
  verifier: RequestVerifier
  /** Largest body a call may send, in bytes. */
  maxBodyBytes: number
  routes: Record<string, InternalRoute>
  /** Unsigned GET routes (the master's `hello`). */
  open?: Record<string, () => Response>
  /** Bun's idle timeout in seconds (0: none, for answers that stay silent while a model works). */
  idleTimeout?: number
}

/** No loopback names beyond the built-in ones: a node without a secret answers to those only. */
const LOOPBACK_ONLY = new Set<string>()

async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new PayloadTooLargeError(`The request body is over the cluster port's limit of ${limit} bytes`)
  if (Number(request.headers.get('content-length') ?? 0) > limit) throw tooLarge()
  const parts: Uint8Array[] = []
  let size = 0
  const reader = request.body?.getReader()
  for (let part = await reader?.read(); part && !part.done; part = await reader!.read()) {
    size += part.value.byteLength
    if (size > limit) {
      void reader!.cancel()
      throw tooLarge()
    }
    parts.push(part.value)
  }
  return Buffer.concat(parts)
}

async function handle(options: InternalServerOptions, request: Request, server: BunServer): Promise<Response> {
  try {
    // Without a secret, only names of this machine: a DNS-rebinding page sends its own host name.
    checkHost(request.headers.get('host'), options.verifier.secret ? '*' : LOOPBACK_ONLY)
    // Nodes never send an Origin; browsers always do on a POST.
    if (request.headers.has('origin')) throw new PermissionDeniedError('Browsers may not call the cluster port', { code: 'origin_not_allowed' })
    const path = new URL(request.url).pathname
    const open = options.open?.[path]
    if (open && request.method === 'GET') return open()
    const route = options.routes[path]
    if (!route || request.method !== 'POST') throw new NotFoundError('Unknown cluster route')
    options.verifier.checkHeaders(request.headers)
    const body = await readBody(request, options.maxBodyBytes)
    options.verifier.checkSignature(request.method, path, request.headers, body)
    return await route(body, request, server)
  } catch (error) {
    return errorResponse(error)
  }
}

/**
 * A node's internal port: the checks every call goes through (host name, no browsers, protocol version,
 * body limit, signature), then its route. Never Bun's development error page.
 */
export function serveInternal(options: InternalServerOptions): BunServer {
  return Bun.serve({
    hostname: options.hostname,
    port: options.port,
    ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
    development: false,
    fetch: (request, server) => handle(options, request, server),
    error: (error) => errorResponse(new InternalError('Internal server error', { cause: error })),
  })
}
