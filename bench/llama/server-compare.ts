/**
 * bench/llama/server-compare: cy's HTTP server (apps/server with the llama adapter) against llama.cpp's own
 * `llama-server`, side by side on the same model, threads and 8 slots. Each round runs both servers in
 * turn (the order alternates): one client's latency for a 16-token greedy completion, and the requests/s of
 * 8 clients doing the same back to back; quiet, then with two busy-loop processes beside them.
 * `--sweep` instead measures cy alone at several thread counts: 100 concurrent streams, quiet and busy.
 * Usage: bun bench/llama/server-compare.ts [--size tiny|small|medium] [--threads N] [--rounds N] [--sweep]
 */
import { existsSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { writeTinyLlama, type TinyLlamaOptions } from '../../test/fixtures/llama/tiny-llama.ts'
import { llamaServer, missingTools } from '../../test/fixtures/llama/build-llama-server.ts'

const SIZES: Record<string, TinyLlamaOptions> = {
  // The tests' 2-layer model, in q8_0: llama.cpp spends about 0.3 ms a token on it, so what is left is overhead.
  tiny: { embedding: 64, layers: 2, heads: 4, quantize: true },
  small: { embedding: 256, layers: 4, heads: 4, feedForward: 704, quantize: true },
  medium: { embedding: 768, layers: 12, heads: 12, feedForward: 2048, quantize: true },
}

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    size: { type: 'string' },
    threads: { type: 'string' },
    rounds: { type: 'string' },
    sweep: { type: 'boolean' },
    'cy-only': { type: 'boolean' },
  },
})
const size = values.size ?? 'tiny'
if (!SIZES[size]) throw new Error(`--size must be one of ${Object.keys(SIZES).join(', ')}`)
const rounds = Number(values.rounds ?? 3)
const cores = availableParallelism()
const TOKENS = 16
const PROMPT = 'The quick brown fox'
const REQUEST_TIMEOUT_MS = 30_000

const median = (xs: number[]) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)
const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits }) : '–')

const modelPath = join(tmpdir(), `cy-bench-llama-${size}-q8_0.gguf`)
if (!existsSync(modelPath)) await writeTinyLlama(modelPath, { ...SIZES[size], context: 2048, seed: 7 })

interface Target {
  name: string
  url: string
  /** Extra body fields: llama-server is told to ignore EOS; cy refuses unknown fields, and the model never says EOS. */
  extra: Record<string, unknown>
  stop(): Promise<void>
}

/** Every child this run started (servers, hogs): stopped if the run is interrupted. */
const children = new Set<Bun.Subprocess>()
function spawn(command: string[], options: Parameters<typeof Bun.spawn>[1]): Bun.Subprocess {
  const child = Bun.spawn(command, options)
  children.add(child)
  void child.exited.then(() => children.delete(child))
  return child
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill('SIGKILL')
    process.exit(130)
  })
}

async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', development: false, error: () => new Response(null, { status: 500 }), fetch: () => new Response() })
  const port = server.port!
  server.stop(true)
  return port
}

async function waitReady(url: string, child: Bun.Subprocess, name: string): Promise<void> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) before it was ready`)
    try {
      const response = await fetch(`${url}/v1/models`)
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await Bun.sleep(100)
  }
  throw new Error(`${name} was not ready within 120 s`)
}

/** Waits for a server child to answer; stops it when it does not. */
async function started(url: string, child: Bun.Subprocess, name: string): Promise<void> {
  try {
    await waitReady(url, child, name)
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
}

async function stopChild(child: Bun.Subprocess): Promise<void> {
  child.kill()
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await child.exited
  clearTimeout(timer)
}

async function startCy(threads: number): Promise<Target> {
  const port = await freePort()
  const child = spawn([process.execPath, join(import.meta.dir, 'cy-server.ts'), modelPath, String(port), String(threads), '8'], { stdout: 'ignore', stderr: 'inherit' })
  const url = `http://127.0.0.1:${port}`
  await started(url, child, 'cy')
  return { name: 'cy', url, extra: {}, stop: () => stopChild(child) }
}

async function startLlamaServer(binary: string, threads: number): Promise<Target> {
  const port = await freePort()
  // -c is the whole cache, split among the 8 slots: 512 tokens each, as cy's contextSize.
  const child = spawn([binary, '-m', modelPath, '-t', String(threads), '-tb', String(threads), '-np', '8', '-c', String(512 * 8), '--host', '127.0.0.1', '--port', String(port), '--no-webui'], {
    stdout: 'ignore',
    stderr: 'ignore',
  })
  const url = `http://127.0.0.1:${port}`
  await started(url, child, 'llama-server')
  return { name: 'llama-server', url, extra: { ignore_eos: true, cache_prompt: true }, stop: () => stopChild(child) }
}

/** One 16-token greedy completion; returns its latency in ms and checks it really made 16 tokens. */
async function complete(target: Target, prompt = PROMPT): Promise<number> {
  const started = performance.now()
  const response = await fetch(`${target.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench', prompt, max_tokens: TOKENS, temperature: 0, ...target.extra }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  })
  const body = (await response.json()) as { usage?: { completion_tokens?: number }; error?: unknown }
  if (!response.ok) throw new Error(`${target.name}: ${response.status} ${JSON.stringify(body)}`)
  if (body.usage?.completion_tokens !== TOKENS) throw new Error(`${target.name} made ${body.usage?.completion_tokens} tokens, not ${TOKENS}`)
  return performance.now() - started
}

/** Median latency of one client doing `count` completions one after another. */
async function oneClient(target: Target, count: number): Promise<number> {
  const latencies: number[] = []
  for (let i = 0; i < count; i++) latencies.push(await complete(target))
  return median(latencies)
}

/** Requests/s of `clients` clients each doing `each` completions back to back; timed-out requests count as failures. */
async function manyClients(target: Target, clients: number, each: number): Promise<{ rate: number; failed: number }> {
  let failed = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < each; i++) await complete(target, `${PROMPT} ${c}`).catch(() => failed++)
    }),
  )
  return { rate: (clients * each - failed) / ((performance.now() - started) / 1000), failed }
}

/** Two busy-loop processes (a CPU hog) until the returned function stops them. */
function startHog(): () => Promise<void> {
  const hogs = [0, 1].map(() => spawn(['sh', '-c', 'while :; do :; done'], { stdout: 'ignore', stderr: 'ignore' }))
  return async () => {
    for (const hog of hogs) hog.kill()
    await Promise.all(hogs.map((hog) => hog.exited))
  }
}

async function withHog<T>(busy: boolean, work: () => Promise<T>): Promise<T> {
  const stop = busy ? startHog() : undefined
  try {
    return await work()
  } finally {
    await stop?.()
  }
}

async function sweep(): Promise<void> {
  const counts = [...new Set([1, 2, Math.max(1, Math.floor(cores / 2)), cores])].sort((a, b) => a - b)
  console.log(`bench/llama sweep: ${size} model, cy with 8 slots, 100 concurrent ${TOKENS}-token completions, ${cores} cores`)
  console.log(['threads'.padEnd(10), 'quiet s'.padEnd(12), 'busy s'.padEnd(12), 'busy failed'].join(''))
  for (const threads of counts) {
    const cy = await startCy(threads)
    try {
      await complete(cy)
      const run = async () => {
        const started = performance.now()
        const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => complete(cy, `${PROMPT} ${i}`)))
        return { seconds: (performance.now() - started) / 1000, failed: results.filter((r) => r.status === 'rejected').length }
      }
      const quiet = await run()
      const busy = await withHog(true, run)
      console.log([String(threads).padEnd(10), fmt(quiet.seconds, 2).padEnd(12), fmt(busy.seconds, 2).padEnd(12), String(busy.failed)].join(''))
    } finally {
      await cy.stop()
    }
  }
}

async function compare(): Promise<void> {
  const threads = Number(values.threads ?? Math.max(1, Math.floor(cores / 2)))
  const missing = missingTools()
  let reference: string | undefined
  if (values['cy-only']) reference = undefined
  else if (missing && !process.env.CY_LLAMA_SERVER) console.log(`skipping llama-server: ${missing}`)
  else reference = await llamaServer()
  console.log(`bench/llama server-compare: ${size} model, ${threads} threads, 8 slots, ${TOKENS}-token greedy completions, ${rounds} rounds`)
  const targets: Target[] = [await startCy(threads)]
  if (reference) targets.push(await startLlamaServer(reference, threads))
  const results = new Map<string, number[]>()
  const record = (key: string, value: number) => results.set(key, [...(results.get(key) ?? []), value])
  try {
    for (const target of targets) for (let i = 0; i < 3; i++) await complete(target)
    for (const busy of [false, true]) {
      const mode = busy ? 'busy' : 'quiet'
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? targets : [...targets].reverse()
        await withHog(busy, async () => {
          for (const target of order) {
            record(`${target.name} ${mode} latency`, await oneClient(target, busy ? 5 : 20))
            const { rate, failed } = await manyClients(target, 8, busy ? 4 : 12)
            record(`${target.name} ${mode} rate`, rate)
            if (failed > 0) record(`${target.name} ${mode} failed`, failed)
          }
        })
      }
    }
  } finally {
    for (const target of targets) await target.stop()
  }
  const get = (key: string) => median(results.get(key) ?? [])
  console.log('')
  console.log(['case'.padEnd(38), 'cy'.padEnd(12), 'llama-server'.padEnd(14), 'ratio'.padEnd(8), 'aim'].join(''))
  for (const mode of ['quiet', 'busy']) {
    const latency = [get(`cy ${mode} latency`), get(`llama-server ${mode} latency`)] as const
    const rate = [get(`cy ${mode} rate`), get(`llama-server ${mode} rate`)] as const
    console.log([`1 client, median latency ms (${mode})`.padEnd(38), fmt(latency[0], 2).padEnd(12), fmt(latency[1], 2).padEnd(14), fmt(latency[0] / latency[1], 2).padEnd(8), '<= 1.2'].join(''))
    console.log([`8 clients, requests/s (${mode})`.padEnd(38), fmt(rate[0]).padEnd(12), fmt(rate[1]).padEnd(14), fmt(rate[0] / rate[1], 2).padEnd(8), '>= 1.0'].join(''))
    for (const name of ['cy', 'llama-server']) if (results.has(`${name} ${mode} failed`)) console.log(`  ${name} (${mode}): ${get(`${name} ${mode} failed`)} requests timed out per round (median)`)
  }
}

if (values.sweep) await sweep()
else await compare()
process.exit(0)
