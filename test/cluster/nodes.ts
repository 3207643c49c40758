import { join } from 'node:path'

const NODE = join(import.meta.dir, '..', 'fixtures', 'cluster', 'node.ts')

export interface Node {
  process: ReturnType<typeof Bun.spawn>
  output: () => string
}

/** Starts a fixture node process and waits for its first line ("... ready" or "failed: ..."). */
export async function spawnNode(args: string[], env: Record<string, string> = {}): Promise<{ node: Node; line: string }> {
  const child = Bun.spawn([process.execPath, NODE, ...args], { stdout: 'pipe', stderr: 'inherit', env: { ...process.env, ...env } })
  let output = ''
  const reader = child.stdout.getReader()
  const decoder = new TextDecoder()
  while (!output.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) break
    output += decoder.decode(value)
  }
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      output += decoder.decode(value)
    }
  })()
  return { node: { process: child, output: () => output }, line: output.split('\n')[0] ?? '' }
}

/** Polls `probe` until `done` holds of its value or the deadline passes; returns the last value. */
export async function waitFor<T>(probe: () => Promise<T> | T, done: (value: T) => boolean, deadlineMs = 5000): Promise<T> {
  const until = Date.now() + deadlineMs
  let value = await probe()
  while (!done(value) && Date.now() < until) {
    await Bun.sleep(20)
    value = await probe()
  }
  return value
}

export async function listModels(url: string, apiKey?: string): Promise<string[]> {
  const response = await fetch(`${url}/v1/models`, apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {})
  return ((await response.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)
}

/** The master's model list once `predicate` holds of it (or the last one seen, after 5 s). */
export const waitForModels = (url: string, predicate: (ids: string[]) => boolean, apiKey?: string) => waitFor(() => listModels(url, apiKey), predicate)

/** The run port's URL a fixture worker prints: "worker ready <id> <url>". */
export const workerUrl = (line: string) => line.split(' ')[3] ?? ''
