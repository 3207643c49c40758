import { interceptedSink, type OutputChunk, type OutputSink, type ProgressChunk } from '@cy/core'

/** The phases stable-diffusion.cpp reports nothing in: the prompt's encoding before the first step, the VAE's decoding after the last. */
export const SILENT_STAGES = new Set(['encoding', 'decoding'])

/** How often a silent phase is said again (the server's stall timeout is 2 minutes by default). */
export const HEARTBEAT_MS = 20_000

/**
 * The relay's side of a generation: while the engine is in a phase with no step callbacks (decoding a
 * large image takes minutes on a CPU), the last progress is said again every `everyMs`, so the server's
 * stall timeout does not take it for a hung engine. Sampling steps are not covered: each must report.
 */
export function phaseHeartbeat(out: OutputSink, everyMs = HEARTBEAT_MS): OutputSink & { stop(): void } {
  let last: ProgressChunk | undefined
  let quietSince = performance.now()
  const timer = setInterval(() => {
    if (last && SILENT_STAGES.has(last.stage ?? '') && performance.now() - quietSince >= everyMs) {
      quietSince = performance.now()
      out.push(last)
    }
  }, Math.max(1, Math.floor(everyMs / 4)))
  const sink = interceptedSink(out, (chunk: OutputChunk) => {
    quietSince = performance.now()
    if (chunk.type === 'progress') last = chunk
    return out.push(chunk)
  })
  return Object.assign(sink, { stop: () => clearInterval(timer) })
}
