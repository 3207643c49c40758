import type { OutputChannel, OutputChunk } from '@cy/core'

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
