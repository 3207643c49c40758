/**
 * HTTP benchmark: our `Server` against a bare `Bun.serve` baseline answering the same bytes.
 *
 *   bun bench/http/index.ts [--rounds 6] [--duration-ms 2000] [--warmup-ms 1000] [--concurrency 64]
 *                           [--deltas 200000] [--client raw|fetch] [--quick] [--cpu-prof-dir DIR]
 *
 * (or BENCH_ROUNDS, BENCH_DURATION_MS, BENCH_WARMUP_MS, BENCH_CONCURRENCY, BENCH_DELTAS, BENCH_CLIENT,
 * BENCH_QUICK=1, BENCH_CPU_PROF_DIR). `--quick` is a smoke run of a few seconds.
 *
 * The JSON load uses raw keep-alive sockets by default: a `fetch` client needs about twice the CPU per
 * request of the bare server, so on two cores it, not the server, would cap the baseline and squeeze
 * the ratio towards 1. `--client fetch` is there to compare.
 *
 * Each server and the load client run in processes of their own (the machine may have only two cores:
 * one for the server under test, one for the client). Rounds alternate ours/baseline, swapping who goes
 * first each round so slow drift on a noisy machine hits both alike; the report gives medians.
 * Besides throughput it reports the server process's CPU time per request/frame, which stays meaningful
 * even when the client, not the server, is the bottleneck.
 */
import { parseArgs } from 'node:util'
import { ChildProcess } from './child-process.ts'
import { CHAT_PATH, jsonRequestBody, sseRequestBody, type ClientCommand, type ClientReply, type LoadClientKind, type ServerCommand, type ServerKind, type ServerReply } from './protocol.ts'
import { formatNumber, formatRange, formatTable, median } from './stats.ts'

const AIM = 0.8

interface Options {
  rounds: number
  durationMs: number
  warmupMs: number
  concurrency: number
  deltas: number
  client: LoadClientKind
  cpuProfDir: string | undefined
  /** Make the baseline read and parse each JSON request body, as any real server must. */
  bareReadsBody: boolean
}

function readOptions(): Options {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: {
      rounds: { type: 'string' },
      'duration-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      concurrency: { type: 'string' },
      deltas: { type: 'string' },
      client: { type: 'string' },
      quick: { type: 'boolean' },
      'cpu-prof-dir': { type: 'string' },
      'bare-reads-body': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(
      'usage: bun bench/http/index.ts [--rounds N] [--duration-ms MS] [--warmup-ms MS] [--concurrency N] [--deltas N] [--client raw|fetch] [--quick] [--cpu-prof-dir DIR] [--bare-reads-body]',
    )
    process.exit(0)
  }
  const env = process.env
  const quick = values.quick === true || env.BENCH_QUICK === '1'
  // Integers within sane bounds, so a typo cannot start an endless or empty run.
  const int = (raw: string | undefined, fallback: number, min: number, max: number, name: string) => {
    if (raw === undefined || raw === '') return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got ${raw}`)
    return value
  }
  return {
    // An even default, so each server goes first in as many rounds as the other.
    rounds: int(values.rounds ?? env.BENCH_ROUNDS, quick ? 2 : 6, 1, 50, 'rounds'),
    durationMs: int(values['duration-ms'] ?? env.BENCH_DURATION_MS, quick ? 500 : 2000, 100, 60_000, 'duration-ms'),
    warmupMs: int(values['warmup-ms'] ?? env.BENCH_WARMUP_MS, quick ? 300 : 1000, 0, 60_000, 'warmup-ms'),
    concurrency: int(values.concurrency ?? env.BENCH_CONCURRENCY, 64, 1, 1024, 'concurrency'),
    deltas: int(values.deltas ?? env.BENCH_DELTAS, quick ? 20_000 : 200_000, 10, 2_000_000, 'deltas'),
    client: loadClient(values.client ?? env.BENCH_CLIENT),
    cpuProfDir: values['cpu-prof-dir'] ?? env.BENCH_CPU_PROF_DIR,
    bareReadsBody: values['bare-reads-body'] === true || env.BENCH_BARE_READS_BODY === '1',
  }
}

function loadClient(raw: string | undefined): LoadClientKind {
  if (raw === undefined || raw === '' || raw === 'raw') return 'raw'
  if (raw === 'fetch') return 'fetch'
  throw new Error(`client must be raw or fetch, got ${raw}`)
}

type ServerProcess = ChildProcess<ServerCommand, ServerReply>
type ClientProcess = ChildProcess<ClientCommand, ClientReply>

const here = import.meta.dir

async function startServer(kind: ServerKind, env: Record<string, string>, bunFlags: string[] = []): Promise<{ proc: ServerProcess; url: string }> {
  const proc: ServerProcess = new ChildProcess(`${here}/servers.ts`, [kind], { env, bunFlags })
  const { url } = await proc.expect('ready')
  return { proc, url: url + CHAT_PATH }
}

/** Server CPU time (user + system, µs) spent while `run` ran. */
async function withServerCpu<T>(server: ServerProcess, run: () => Promise<T>): Promise<{ result: T; cpuUs: number }> {
  const before = await server.request({ type: 'cpu' }, 'cpu')
  const result = await run()
  const after = await server.request({ type: 'cpu' }, 'cpu')
  return { result, cpuUs: after.user + after.system - (before.user + before.system) }
}

/** The id and timestamp differ per response; everything else must match byte for byte. */
const normalize = (text: string) => text.replace(/"id":"chatcmpl-[a-z0-9]+"/g, '"id":"ID"').replace(/"created":\d+/g, '"created":0')

async function post(url: string, body: string, sse: boolean): Promise<{ status: number; contentType: string; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: sse ? { 'content-type': 'application/json', accept: 'text/event-stream' } : { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(10_000),
  })
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() }
}

/** Checks that the baseline really sends what ours sends, so the comparison is like for like. */
async function checkSameBytes(cyUrl: string, bareUrl: string): Promise<void> {
  for (const [label, body, sse] of [
    ['chat JSON', jsonRequestBody, false],
    ['SSE stream', sseRequestBody(3), true],
  ] as const) {
    const [cy, bare] = await Promise.all([post(cyUrl, body, sse), post(bareUrl, body, sse)])
    if (cy.status !== 200 || bare.status !== 200) throw new Error(`${label}: status ${cy.status} (cy) / ${bare.status} (bare): ${cy.text} ${bare.text}`)
    if (normalize(cy.text) !== normalize(bare.text) || cy.contentType !== bare.contentType) {
      throw new Error(`${label}: the baseline does not send what ours sends:\n cy:   ${cy.contentType} ${cy.text}\n bare: ${bare.contentType} ${bare.text}`)
    }
  }
}

interface Sample {
  /** Requests or chunks per second, as the client saw them. */
  rate: number
  /** Server CPU time per request or chunk. */
  cpuPerUnitUs: number
  /** Server CPU time over wall time (1 = one core fully busy): near 1 or above, the server was the bottleneck. */
  serverBusy: number
  /** The same for the load client. */
  clientBusy: number
}

interface Series {
  cy: Sample[]
  bare: Sample[]
}

function sample(units: number, elapsedMs: number, serverCpuUs: number, clientCpuUs: number): Sample {
  return {
    rate: (units / elapsedMs) * 1000,
    cpuPerUnitUs: serverCpuUs / units,
    serverBusy: serverCpuUs / (elapsedMs * 1000),
    clientBusy: clientCpuUs / (elapsedMs * 1000),
  }
}

const percent = (value: number) => `${Math.round(value * 100)}%`

function roundLine(label: string, round: number, series: Series): string {
  const show = (s: Sample) => `${formatNumber(s.rate)} (server ${percent(s.serverBusy)}, client ${percent(s.clientBusy)} CPU)`
  return `  round ${round + 1} ${label}: cy ${show(series.cy.at(-1)!)}, bare ${show(series.bare.at(-1)!)}`
}

async function main(): Promise<void> {
  const options = readOptions()
  const cores = navigator.hardwareConcurrency
  console.log(
    `bench/http: Bun ${Bun.version}, ${cores} cores; ${options.rounds} rounds; chat JSON: ${options.durationMs} ms each, ${options.concurrency} in flight, ` +
      `${options.client} client; SSE: ${options.deltas.toLocaleString('en-US')} deltas in one stream; warm-up ${options.warmupMs} ms` +
      (options.bareReadsBody ? '; the baseline reads and parses each JSON body' : '; the baseline does not read the request body'),
  )

  const cyFlags = options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${options.cpuProfDir}`] : []
  const cy = await startServer('cy', {}, cyFlags)
  let bare: Awaited<ReturnType<typeof startServer>> | undefined
  const client: ClientProcess = new ChildProcess(`${here}/load-client.ts`, [])
  try {
    // The baseline answers the exact JSON body ours returns.
    const first = await post(cy.url, jsonRequestBody, false)
    if (first.status !== 200) throw new Error(`Our server answered ${first.status}: ${first.text}`)
    bare = await startServer('bare', { BENCH_JSON_BODY: first.text, BENCH_BARE_READS_BODY: options.bareReadsBody ? '1' : '' })
    await checkSameBytes(cy.url, bare.url)
    await client.expect('ready')

    const servers = { cy, bare } as const
    const order = (round: number): ServerKind[] => (round % 2 === 0 ? ['cy', 'bare'] : ['bare', 'cy'])

    // 1. Non-streaming chat completions under a fixed number of requests in flight.
    const json: Series = { cy: [], bare: [] }
    const runJson = async (kind: ServerKind, durationMs: number) => {
      const server = servers[kind]
      const command = { type: 'json', url: server.url, client: options.client, concurrency: options.concurrency, durationMs } as const
      const { result, cpuUs } = await withServerCpu(server.proc, () => client.request(command, 'json'))
      if (result.errors > 0 || result.ok === 0) throw new Error(`${kind}: ${result.errors} failed requests, ${result.ok} good ones`)
      return sample(result.ok, result.elapsedMs, cpuUs, result.clientCpuUs)
    }
    if (options.warmupMs > 0) for (const kind of order(0)) await runJson(kind, options.warmupMs)
    for (let round = 0; round < options.rounds; round++) {
      for (const kind of order(round)) json[kind].push(await runJson(kind, options.durationMs))
      console.log(roundLine('chat JSON requests/s', round, json))
    }

    // 2. One long SSE stream; the client counts frames.
    const sse: Series = { cy: [], bare: [] }
    const runSse = async (kind: ServerKind, deltas: number) => {
      const server = servers[kind]
      const { result, cpuUs } = await withServerCpu(server.proc, () => client.request({ type: 'sse', url: server.url, deltas }, 'sse'))
      // Every delta plus the closing finish frame, then [DONE].
      if (!result.complete || result.frames !== deltas + 1) throw new Error(`${kind}: stream incomplete (${result.frames} frames for ${deltas} deltas)`)
      return sample(result.frames, result.elapsedMs, cpuUs, result.clientCpuUs)
    }
    if (options.warmupMs > 0) for (const kind of order(0)) await runSse(kind, Math.max(10, Math.floor(options.deltas / 4)))
    for (let round = 0; round < options.rounds; round++) {
      for (const kind of order(round)) sse[kind].push(await runSse(kind, options.deltas))
      console.log(roundLine('SSE chunks/s', round, sse))
    }

    report(json, sse)
  } finally {
    await client.stop({ type: 'stop' })
    await Promise.all([cy.proc.stop({ type: 'stop' }), bare?.proc.stop({ type: 'stop' })])
    if (options.cpuProfDir) console.log(`\nCPU profile of our server written under ${options.cpuProfDir}`)
  }
}

function report(json: Series, sse: Series): void {
  const pick = (series: Series, kind: ServerKind, key: keyof Sample) => series[kind].map((s) => s[key])
  const row = (label: string, series: Series, key: keyof Sample, higherIsBetter: boolean, showAim: boolean) => {
    const cy = median(pick(series, 'cy', key))
    const bare = median(pick(series, 'bare', key))
    const ratio = higherIsBetter ? cy / bare : bare / cy
    const aim = showAim ? (ratio >= AIM ? 'yes' : 'NO') : ''
    return [label, formatNumber(cy), formatNumber(bare), ratio.toFixed(2), aim, `${formatRange(pick(series, 'cy', key))} / ${formatRange(pick(series, 'bare', key))}`]
  }
  const busy = (label: string, series: Series) => [
    label,
    percent(median(pick(series, 'cy', 'serverBusy'))),
    percent(median(pick(series, 'bare', 'serverBusy'))),
    '',
    '',
    `client ${percent(median(pick(series, 'cy', 'clientBusy')))} / ${percent(median(pick(series, 'bare', 'clientBusy')))}`,
  ]
  console.log()
  console.log(
    formatTable([
      ['benchmark', 'cy (median)', 'bare Bun.serve (median)', 'ratio', `>= ${AIM}`, 'range cy / bare'],
      row('chat JSON requests/s', json, 'rate', true, true),
      row('SSE chunks/s (1 stream)', sse, 'rate', true, true),
      row('server CPU µs/request (JSON)', json, 'cpuPerUnitUs', false, false),
      row('server CPU µs/chunk (SSE)', sse, 'cpuPerUnitUs', false, false),
      busy('server CPU busy (JSON)', json),
      busy('server CPU busy (SSE)', sse),
    ]),
  )
  console.log(
    '\nratio: cy / bare for throughput, bare / cy for CPU per unit, so above 1 means ours is ahead either way.' +
      '\nCPU busy: server (and client) CPU time over wall time; a server well under 100% was held back by the client or by other load.',
  )
  const bareBusy = median(pick(json, 'bare', 'serverBusy'))
  if (bareBusy < 0.85) {
    console.log(
      `note: the baseline server was only ${percent(bareBusy)} busy in the JSON test, so requests/s flatter ours; the CPU µs/request row is the fairer comparison.`,
    )
  }
}

await main()
