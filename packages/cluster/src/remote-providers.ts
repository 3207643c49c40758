import { errorFromWire, ProviderError, type Capability, type Handler, type OutputChunk, type Providers, type WireError } from '@cy/core'
import { PATHS, SECRET_HEADER, type RunRequest } from './protocol.ts'
import { decodeWire, encodeWire } from './wire-codec.ts'

/** One line of a worker's /cluster/run answer. */
export type RunLine = { chunk: OutputChunk } | { end: true } | { error: WireError }

export interface RemoteWorker {
  id: string
  url: string
  secret: string | undefined
  inFlight: number
}

/**
 * Handlers that run a request on a worker: the request goes over as JSON, its chunks come back as they
 * are produced (NDJSON), and the master's own HTTP layer encodes them, so a client cannot tell the
 * difference. A client that leaves aborts the call, which cancels the work on the worker.
 */
export function remoteProviders(worker: RemoteWorker, capabilities: Capability[]): Providers {
  const providers: Providers = {}
  for (const capability of capabilities) {
    const handler: Handler<unknown> = async (request, out) => {
      worker.inFlight++
      try {
        const body: RunRequest = { capability, request }
        let response: Response
        try {
          response = await fetch(`${worker.url}${PATHS.run}`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-ndjson', ...(worker.secret ? { [SECRET_HEADER]: worker.secret } : {}) },
            body: encodeWire(body),
            signal: out.signal,
          })
        } catch (error) {
          if (out.signal.aborted) return
          throw new ProviderError(`Worker '${worker.id}' is unreachable: ${(error as Error).message}`)
        }
        if (!response.ok || !response.body) throw new ProviderError(`Worker '${worker.id}' answered ${response.status}`)
        const decoder = new TextDecoder()
        let pending = ''
        let ended = false
        for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
          pending += decoder.decode(bytes, { stream: true })
          let newline: number
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline)
            pending = pending.slice(newline + 1)
            if (!line) continue
            const message = decodeWire<RunLine>(line)
            if ('chunk' in message) {
              if (!out.push(message.chunk)) await out.ready()
            } else if ('error' in message) throw errorFromWire(message.error)
            else ended = true
          }
        }
        // A worker that dies mid-answer ends its stream without saying so: that is a failure, not an end.
        if (!ended) throw new ProviderError(`Worker '${worker.id}' stopped before finishing`)
        out.end()
      } catch (error) {
        if (!out.signal.aborted) out.fail(error)
      } finally {
        worker.inFlight--
      }
    }
    ;(providers as Record<Capability, Handler<unknown>>)[capability] = handler
  }
  return providers
}
