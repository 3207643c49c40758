import { CREDIT_WINDOW, OutputChannel, type OutputChunk, type WorkerHost } from '@cy/core'
import { expect } from 'bun:test'

/** What the WorkerHost tests (Worker and process) compare: deltas as text, other chunks by type. */
export const texts = (chunks: OutputChunk[]) => chunks.map((c) => (c.type === 'text-delta' ? c.text : `<${c.type}>`))

export async function drain(channel: OutputChannel): Promise<OutputChunk[]> {
  const all: OutputChunk[] = []
  for await (const chunk of channel) all.push(chunk)
  return all
}

/** Polls a condition; only a safety net against hanging, never the thing under test. */
export async function until(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await Bun.sleep(5)
  }
}

/**
 * Back-pressure over either transport: with a reader that does not take, the engine stops after about
 * the credit window (plus the credit for chunks the channel took below its mark); reading resumes it, and
 * every chunk arrives in order.
 */
export async function expectCreditBound(host: WorkerHost): Promise<void> {
  const highWaterMark = 4
  const total = 1000
  const channel = new OutputChannel({ highWaterMark })
  let settled = false
  const call = host.call<number>('flood', { n: total }, channel).finally(() => (settled = true))
  // The first window needs no credit, so at least that many arrive.
  await until(() => channel.buffered >= CREDIT_WINDOW, 'the first credit window')
  // Ample chance for a runaway engine to overshoot; the bound must hold regardless.
  await Bun.sleep(200)
  expect(channel.buffered).toBeLessThanOrEqual(CREDIT_WINDOW + highWaterMark)
  expect(settled).toBe(false)
  const read = drain(channel)
  expect(await call).toBe(total)
  channel.end()
  expect(texts(await read)).toEqual(Array.from({ length: total }, (_, i) => String(i)))
}
