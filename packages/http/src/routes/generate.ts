import { OutputChannel, type Capability, type CapabilityRequests, type OutputChunk } from '@cy/core'
import type { ApiContext } from '../api-context.ts'
import { nextBatch, then, type MaybePromise } from '../next-batch.ts'

export interface Started {
  channel: OutputChannel
  /** The first batch of output, or null if the handler ended without any. */
  first: OutputChunk[] | null
}

/**
 * Dispatches a request and waits for its first output. Until then nothing is sent, so a handler that
 * fails at once, a full queue or a timeout still reach the client as a proper HTTP status. Synchronous
 * when the handler has already answered.
 */
export function start<K extends Capability>(ctx: ApiContext, capability: K, body: CapabilityRequests[K], request: Request): MaybePromise<Started> {
  return then(ctx.dispatcher.begin(capability, body, { signal: () => request.signal }), (channel) =>
    then(nextBatch(channel), (first) => ({ channel, first })),
  )
}
