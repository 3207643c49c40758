import type { OutputChannel, OutputChunk, ResponseSink } from '@cy/core'
import type { GenerationPipeline } from '@cy/gateway'
import { nextBatch, type MaybePromise } from '../next-batch.ts'

/**
 * Runs a whole generation through the pipeline into a (JSON) sink and returns what the sink makes of it
 * at the close; synchronous while output is already there. A failure rejects, so the client gets the
 * error's own status.
 */
export function collectEvents(channel: OutputChannel, first: MaybePromise<OutputChunk[] | null>, pipeline: GenerationPipeline, sink: ResponseSink): MaybePromise<string> {
  for (const event of pipeline.start()) sink.onEvent(event)
  const step = (batch: MaybePromise<OutputChunk[] | null>): MaybePromise<string> => {
    for (;;) {
      if (batch instanceof Promise) return batch.then(step)
      if (batch === null) {
        for (const event of pipeline.end()) sink.onEvent(event)
        return sink.onClose()
      }
      for (const event of pipeline.push(batch)) sink.onEvent(event)
      batch = nextBatch(channel)
    }
  }
  return step(first)
}
