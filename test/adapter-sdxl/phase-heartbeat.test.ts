import { HEARTBEAT_MS, phaseHeartbeat } from '../../packages/adapter-sdxl/src/engine/phase-heartbeat.ts'
import { OutputChunk, type OutputChunk as Chunk } from '@cy/core'
import { expect, test } from 'bun:test'

// The server's stall timeout (2 minutes by default) must fire well after the heartbeat would have spoken.
test('the default heartbeat speaks well within the default stall timeout', () => {
  expect(HEARTBEAT_MS * 3).toBeLessThanOrEqual(120_000)
})

test('a silent phase (decoding) is said again while it lasts; sampling is not, and stop ends it', async () => {
  const pushed: Chunk[] = []
  const out = { signal: new AbortController().signal, push: (chunk: Chunk) => (pushed.push(chunk), true), ready: () => Promise.resolve(), end: () => {}, fail: () => {}, closed: false }
  const sink = phaseHeartbeat(out, 40)
  sink.push(OutputChunk.progress(0.5, 'sampling', { step: 1, steps: 2 }))
  await Bun.sleep(150)
  expect(pushed.map((c) => (c as { stage?: string }).stage)).toEqual(['sampling'])
  sink.push(OutputChunk.progress(1, 'decoding'))
  await Bun.sleep(150)
  const repeats = pushed.filter((c) => (c as { stage?: string }).stage === 'decoding').length
  expect(repeats).toBeGreaterThanOrEqual(3)
  sink.stop()
  const stopped = pushed.length
  await Bun.sleep(120)
  expect(pushed.length).toBe(stopped)
})
