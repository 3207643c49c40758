import type { OutputChannel, OutputChunk } from '@cy/core'

/**
 * The next batch of a channel's output: handed over at once when some is buffered (no promise, no
 * microtask: light handlers have usually written everything already), else waited for; null at the end.
 */
export function nextBatch(channel: OutputChannel): OutputChunk[] | null | Promise<OutputChunk[] | null> {
  return channel.buffered > 0 ? channel.takeBuffered() : channel.take()
}
