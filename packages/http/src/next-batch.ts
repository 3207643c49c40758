import type { OutputChannel, OutputChunk } from '@cy/core'

/** A value now, or a promise of it when it has to be waited for. */
export type MaybePromise<T> = T | Promise<T>

/** Applies `next` to a value that may still be on its way, without a microtask when it is already here. */
export function then<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value)
}

/**
 * The next batch of a channel's output: handed over at once when some is buffered or the output has
 * ended (light handlers have usually written everything already), else waited for; null at the end.
 */
export function nextBatch(channel: OutputChannel): MaybePromise<OutputChunk[] | null> {
  if (channel.buffered > 0) return channel.takeBuffered()
  if (channel.finished) return null
  return channel.take()
}

/** Feeds every chunk to `onChunk`: synchronously while output is already there, then as it comes. */
export function forEachChunk(channel: OutputChannel, first: MaybePromise<OutputChunk[] | null>, onChunk: (chunk: OutputChunk) => void): MaybePromise<void> {
  for (let batch = first; ; batch = nextBatch(channel)) {
    if (batch === null) return
    if (batch instanceof Promise) return batch.then((chunks) => forEachChunk(channel, chunks, onChunk))
    for (const chunk of batch) onChunk(chunk)
  }
}
