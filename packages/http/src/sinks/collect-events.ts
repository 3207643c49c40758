import type { OutputChannel, OutputChunk } from '@cy/core'
import type { GenerationPipeline } from '@cy/gateway'
import type { ResponseSink } from './response-sink.ts'

/**
 * Runs a whole generation through the pipeline into a (JSON) sink and returns what the sink makes of it
 * at the close. A failure rejects, so the client gets the error's own status.
 */
export async function collectEvents(channel: OutputChannel, first: Promise<OutputChunk[] | null>, pipeline: GenerationPipeline, sink: ResponseSink): Promise<string> {
  for (const event of pipeline.start()) sink.onEvent(event)
  for (let batch = await first; batch !== null; batch = await channel.take()) {
    for (const event of pipeline.push(batch)) sink.onEvent(event)
  }
  for (const event of pipeline.end()) sink.onEvent(event)
  return sink.onClose()
}
