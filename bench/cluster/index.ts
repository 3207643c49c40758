/**
 * Cluster benchmark: the same worker's model called through the master against the worker's own API.
 *
 *   bun bench/cluster/index.ts [--rounds 6] [--tokens 50000] [--streams 8] [--requests 400] [--quick]
 *
 * (or BENCH_ROUNDS, BENCH_TOKENS, BENCH_STREAMS, BENCH_REQUESTS, BENCH_QUICK=1). The master and the
 * worker are processes of their own on loopback; this process is the client. The model pushes tokens
 * as fast as the channel takes them, so any cost of forwarding shows. Rounds alternate direct/master,
 * swapping who goes first; the report gives medians.
 *
 *   - SSE tokens/s, saturated: one stream of --tokens deltas, and --streams streams at once, the model
 *     pushing as fast as it can. This measures forwarding capacity (near a million tokens/s); on a
 *     two-core machine the master, the worker and this client share the cores.
 *   - SSE tokens/s, paced: --streams streams whose model emits a token every millisecond, as a fast
 *     real model would; what a client sees in practice.
 *   - Latency: sequential non-streaming chat requests (16 tokens), and time to the first SSE frame.
 */
import { parseArgs } from 'node:util'
import { clusterPort } from '../../test/support/cluster-port.ts'
import { formatNumber, formatRange, formatTable, median } from '../http/stats.ts'

const THROUGHPUT_AIM = 0.95
const ADDED_LATENCY_AIM_MS = 2

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    rounds: { type: 'string' },
    tokens: { type: 'string' },
    streams: { type: 'string' },
    requests: { type: 'string' },
    quick: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log('usage: bun bench/cluster/index.ts [--rounds N] [--tokens N] [--streams N] [--requests N] [--quick]')
  console.log('Calls a worker’s model through the master (signed cy-cluster/2 calls) and directly; master and worker run on loopback.')
  process.exit(0)
}
const env = process.env
const quick = values.quick === true || env.BENCH_QUICK === '1'
const int = (raw: string | undefined, fallback: number) => {
  const value = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isInteger(value) || value < 1 || value > 10_000_000) throw new Error(`expected a positive integer, got ${raw}`)
  return value
}
const rounds = int(values.rounds ?? env.BENCH_ROUNDS, quick ? 2 : 6)
const tokens = int(values.tokens ?? env.BENCH_TOKENS, quick ? 5_000 : 50_000)
const streams = int(values.streams ?? env.BENCH_STREAMS, 8)
const requests = int(values.requests ?? env.BENCH_REQUESTS, quick ? 50 : 400)

async function spawnNode(args: string[]): Promise<{ url: string; process: ReturnType<typeof Bun.spawn> }> {
  const child = Bun.spawn([process.execPath, `${import.meta.dir}/node.ts`, ...args], { stdout: 'pipe', stderr: 'inherit' })
  const reader = child.stdout.getReader()
  let output = ''
  while (!output.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`node ${args.join(' ')} exited: ${output}`)
    output += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  const url = /^ready (\S+)/.exec(output)?.[1]
  if (!url) throw new Error(`node ${args.join(' ')}: ${output}`)
  return { url, process: child }
}

const chat = (url: string, body: Record<string, unknown>) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench-chat', messages: [{ role: 'user', content: 'hi' }], ...body }),
  })

/** Reads an SSE answer to its end; returns the number of `data:` frames, checking the stream ended cleanly. */
async function drain(response: Response): Promise<number> {
  const text = await response.text()
  if (!text.endsWith('data: [DONE]\n\n')) throw new Error(`stream did not end with [DONE]: …${text.slice(-200)}`)
  let frames = 0
  for (let at = text.indexOf('data: '); at >= 0; at = text.indexOf('data: ', at + 6)) frames++
  return frames
}

/** Tokens per second over `count` concurrent streams of `tokens` each. */
async function streamRate(url: string, count: number, perStream: number, paceMs = 0): Promise<number> {
  const start = performance.now()
  const body = { stream: true, max_tokens: perStream, ...(paceMs ? { pace_ms: paceMs } : {}) }
  const frames = await Promise.all(Array.from({ length: count }, async () => drain(await chat(url, body))))
  const seconds = (performance.now() - start) / 1000
  // Each stream carries its tokens plus a role/finish frame or two: count only tokens.
  if (frames.some((n) => n < perStream)) throw new Error(`a stream carried fewer than ${perStream} frames`)
  return (count * perStream) / seconds
}

/** Median ms of sequential non-streaming requests. */
async function jsonLatency(url: string): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < requests; i++) {
    const start = performance.now()
    const response = await chat(url, { max_tokens: 16 })
    const body = (await response.json()) as { usage?: { completion_tokens: number } }
    if (body.usage?.completion_tokens !== 16) throw new Error(`unexpected answer: ${JSON.stringify(body)}`)
    times.push(performance.now() - start)
  }
  return median(times)
}

/** Median ms to the first SSE bytes. */
async function firstFrameLatency(url: string): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < requests; i++) {
    const start = performance.now()
    const response = await chat(url, { stream: true, max_tokens: 16 })
    const reader = response.body!.getReader()
    await reader.read()
    times.push(performance.now() - start)
    while (!(await reader.read()).done);
  }
  return median(times)
}

const pacedTokens = quick ? 100 : 500

const port = clusterPort()
const master = await spawnNode(['master', String(port)])
const worker = await spawnNode(['worker', String(port), '0'])
try {
  // Wait until the master lists the worker's model (it has none of its own).
  for (let i = 0; i < 200 && !(await chat(master.url, { max_tokens: 1 })).ok; i++) await Bun.sleep(25)
  const owner = ((await (await fetch(`${master.url}/v1/models/bench-chat`)).json()) as { owned_by?: string }).owned_by
  if (owner !== 'bench-worker') throw new Error(`the master does not forward bench-chat to the worker (owned_by ${owner})`)
  const targets = { direct: worker.url, master: master.url }
  const scenarios = [
    { name: `SSE tokens/s, saturated, 1 stream of ${formatNumber(tokens)}`, higherIsBetter: true, run: (url: string) => streamRate(url, 1, tokens) },
    { name: `SSE tokens/s, saturated, ${streams} streams of ${formatNumber(Math.ceil(tokens / streams))}`, higherIsBetter: true, run: (url: string) => streamRate(url, streams, Math.ceil(tokens / streams)) },
    { name: `SSE tokens/s, paced 1 ms, ${streams} streams of ${pacedTokens}`, higherIsBetter: true, run: (url: string) => streamRate(url, streams, pacedTokens, 1) },
    { name: `JSON chat latency, ms (median of ${requests})`, higherIsBetter: false, run: jsonLatency },
    { name: `SSE first frame, ms (median of ${requests})`, higherIsBetter: false, run: firstFrameLatency },
  ]
  // Warm both paths (JIT, connection pools) before measuring.
  for (const url of Object.values(targets)) for (const scenario of scenarios) await scenario.run(url)
  const results = scenarios.map(() => ({ direct: [] as number[], master: [] as number[] }))
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['direct', 'master'] as const) : (['master', 'direct'] as const)
    for (const [i, scenario] of scenarios.entries()) for (const who of order) results[i]![who].push(await scenario.run(targets[who]))
  }
  const rows = [['benchmark', 'through master', 'worker direct', 'ratio', 'added', 'rounds (master)']]
  for (const [i, scenario] of scenarios.entries()) {
    const viaMaster = median(results[i]!.master)
    const direct = median(results[i]!.direct)
    const ratio = scenario.higherIsBetter ? viaMaster / direct : direct / viaMaster
    const added = scenario.higherIsBetter ? '' : `${formatNumber(viaMaster - direct)} ms`
    rows.push([scenario.name, formatNumber(viaMaster), formatNumber(direct), ratio.toFixed(2), added, formatRange(results[i]!.master)])
  }
  console.log(`cluster benchmark: ${rounds} rounds, loopback, ${navigator.hardwareConcurrency} cores\n`)
  console.log(formatTable(rows))
  console.log(`\naims: throughput ratio ≥ ${THROUGHPUT_AIM}; added median latency < ${ADDED_LATENCY_AIM_MS} ms`)
} finally {
  for (const node of [worker, master]) node.process.kill('SIGTERM')
  await Promise.all([worker.process.exited, master.process.exited])
}
