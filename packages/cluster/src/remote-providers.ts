import { ApiError, errorFromWire, ProviderError, RateLimitError, type ApiErrorBody, type Capability, type Handler, type OutputSink, type OutputChunk, type Providers, type WireError } from '@cy/core'
import { PATHS, type RunRequest } from './protocol.ts'
import type { RemoteWorker, ReplicaSet } from './replica-set.ts'
import { signRequest } from './request-signature.ts'
import { decodeWire, encodeWire } from './wire-codec.ts'

/** One line of a worker's /cluster/run answer: a batch of chunks, the end, or an error. */
export type RunLine = { chunks: OutputChunk[] } | { end: true } | { error: WireError }

/** A failure before the first chunk reached the client: another replica may take the request. */
class RetryableFailure extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message)
  }
}

/** Why a connection failed, in a word of its own (Bun's `ECONNREFUSED`), never the library's sentence. */
function reason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[A-Z][A-Za-z_]{1,40}$/.test(code) ? ` (${code})` : ''
}

/**
 * A worker's refusal before any output: the client's mistake (a 400 or 413 the master's checks let
 * through) reaches the client as it is; anything else (a refused signature, a protocol mismatch) is the
 * cluster's fault, a 502 another replica may avoid.
 */
async function refusal(worker: RemoteWorker, response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => ({}))) as Partial<ApiErrorBody>
  const error = body.error
  if (error && (response.status === 400 || response.status === 413) && error.code !== 'protocol_mismatch') return errorFromWire({ ...error, status: response.status })
  return new ProviderError(`Worker '${worker.id}' refused the request (${response.status}${error?.code ? ` ${error.code}` : ''})`)
}

/**
 * Forwards one request to one worker: the request goes over as JSON, its chunks come back as they are
 * produced (NDJSON) and are pushed as they arrive. Resolves once the worker ended the answer.
 */
async function forward(worker: RemoteWorker, body: RunRequest, out: OutputSink): Promise<void> {
  let pushed = false
  const failure = (error: Error) => (pushed ? error : new RetryableFailure(error))
  let response: Response
  const text = encodeWire(body)
  try {
    response = await fetch(`${worker.url}${PATHS.run}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(worker.secret, 'POST', PATHS.run, text) },
      body: text,
      signal: out.signal,
    })
  } catch (error) {
    if (out.signal.aborted) throw error
    worker.failedAt = Date.now()
    throw failure(new ProviderError(`Worker '${worker.id}' is unreachable${reason(error)}`))
  }
  if (!response.ok) {
    const error = await refusal(worker, response)
    throw error instanceof ProviderError ? failure(error) : error
  }
  if (!response.body) throw failure(new ProviderError(`Worker '${worker.id}' answered without a body`))
  const decoder = new TextDecoder()
  let pending = ''
  try {
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(bytes, { stream: true })
      let newline: number
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline)
        pending = pending.slice(newline + 1)
        if (!line) continue
        const message = decodeWire<RunLine>(line)
        if ('chunks' in message) {
          pushed = true
          for (const chunk of message.chunks) if (!out.push(chunk)) await out.ready()
        } else if ('error' in message) {
          const error = errorFromWire(message.error)
          // A full replica is a reason to try another; any other error is the model's answer.
          throw error instanceof RateLimitError ? failure(error) : error
        } else return
      }
    }
  } catch (error) {
    if (error instanceof RetryableFailure || out.signal.aborted || error instanceof ApiError) throw error
    worker.failedAt = Date.now()
    throw failure(new ProviderError(`Worker '${worker.id}' broke the connection${reason(error)}`))
  }
  // A worker that dies mid-answer ends its stream without saying so: that is a failure, not an end.
  worker.failedAt = Date.now()
  throw failure(new ProviderError(`Worker '${worker.id}' stopped before finishing`))
}

/**
 * Handlers that run a request on the model's workers, so the master's own HTTP layer encodes the answer
 * and a client cannot tell it from a local one. A replica that fails before the first chunk passes the
 * request to the next; a client that leaves aborts the call, which cancels the work on the worker.
 */
export function remoteProviders(replicas: ReplicaSet): Providers {
  const providers: Providers = {}
  for (const capability of replicas.capabilities) {
    const handler: Handler<unknown> = async (request, out) => {
      const body: RunRequest = { capability, request, ...(out.priority ? { priority: out.priority } : {}) }
      const tried = new Set<RemoteWorker>()
      let last: Error = new ProviderError(`No worker serves '${replicas.model}' right now`)
      try {
        for (let worker = replicas.pick(tried, out.workerHint); worker; worker = replicas.pick(tried, out.workerHint)) {
          tried.add(worker)
          worker.inFlight++
          try {
            await forward(worker, body, out)
            out.end()
            return
          } catch (error) {
            if (!(error instanceof RetryableFailure) || out.signal.aborted) throw error
            last = error.cause
          } finally {
            worker.inFlight--
          }
        }
        throw last
      } catch (error) {
        if (!out.signal.aborted) out.fail(error)
      }
    }
    ;(providers as Record<Capability, Handler<unknown>>)[capability] = handler
  }
  return providers
}
