import type { Capability, CapabilityRequests, OutputChannel, OutputChunk } from '@cy/core'
import type { ApiContext } from '../api-context.ts'
import { nextBatch } from '../next-batch.ts'

export interface Started {
  channel: OutputChannel
  /** The first batch of output, or null if the handler ended without any. */
  first: OutputChunk[] | null
}

/**
 * Dispatches a request and waits for its first output. Until then nothing is sent, so a handler that
 * fails at once, a full queue or a timeout still reach the client as a proper HTTP status.
 */
export async function start<K extends Capability>(
  ctx: ApiContext,
  capability: K,
  body: CapabilityRequests[K],
  request: Request,
): Promise<Started> {
  const channel = await ctx.dispatcher.dispatch(capability, body, { signal: () => request.signal })
  return { channel, first: await nextBatch(channel) }
}

