import { ApiError, errorFromWire, ProviderError, RateLimitError, type Capability, type Handler, type OutputSink, type OutputChunk, type Providers, type WireError } from '@cy/core'
import { PATHS, SECRET_HEADER, type RunRequest } from './protocol.ts'
import type { RemoteWorker, ReplicaSet } from './replica-set.ts'
import { decodeWire, encodeWire } from './wire-codec.ts'

/** One line of a worker's /cluster/run answer: a batch of chunks, the end, or an error. */
export type RunLine = { chunks: OutputChunk[] } | { end: true } | { error: WireError }

/** A failure before the first chunk reached the client: another replica may take the request. */
class RetryableFailure extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message)
  }
}

/**
 * Forwards one request to one worker: the request goes over as JSON, its chunks come back as they are
 * produced (NDJSON) and are pushed as they arrive. Resolves once the worker ended the answer.
 */
async function forward(worker: RemoteWorker, body: RunRequest, out: OutputSink): Promise<void> {
  let pushed = false
  const failure = (error: Error) => (pushed ? error : new RetryableFailure(error))
  let response: Response
  try {
    response = await fetch(`${worker.url}${PATHS.run}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', ...(worker.secret ? { [SECRET_HEADER]: worker.secret } : {}) },
      body: encodeWire(body),
      signal: out.signal,
    })
  } catch (error) {
    worker.failedAt = Date.now()
    throw failure(new ProviderError(`Worker '${worker.id}' is unreachable: ${(error as Error).message}`))
  }
  if (!response.ok || !response.body) throw failure(new ProviderError(`Worker '${worker.id}' answered ${response.status}`))
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
    throw failure(new ProviderError(`Worker '${worker.id}' broke the connection: ${(error as Error).message}`))
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
      const body: RunRequest = { capability, request }
      const tried = new Set<RemoteWorker>()
      let last: Error = new ProviderError(`No worker serves '${replicas.model}' right now`)
      try {
        for (let worker = replicas.pick(tried); worker; worker = replicas.pick(tried)) {
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
