/**
 * The load generator, a process of its own (`bun bench/http/load-client.ts`, started by index.ts with IPC)
 * so the server under test never shares its event loop with the client. It stays up for the whole run:
 * its JIT stays warm and its keep-alive connections are reused across rounds.
 */
import { rawJsonLoad } from './raw-http-client.ts'
import { jsonRequestBody, sseRequestBody, type ClientCommand, type ClientReply, type JsonLoadResult, type SseLoadResult } from './protocol.ts'

/** A stream that takes longer than this is cut off (and reported incomplete): the loop stays bounded. */
const SSE_TIMEOUT_MS = 60_000
/** Stop a JSON run early once this many requests failed: a broken server should not spin for the full duration. */
const MAX_ERRORS = 1000

const JSON_HEADERS = { 'content-type': 'application/json' }
const SSE_HEADERS = { 'content-type': 'application/json', accept: 'text/event-stream' }

/** `concurrency` fetch workers, each with one request in flight, until the duration is up. */
async function fetchJsonLoad(url: string, concurrency: number, durationMs: number): Promise<{ ok: number; errors: number; elapsedMs: number }> {
  let ok = 0
  let errors = 0
  const start = performance.now()
  const deadline = start + durationMs
  const worker = async () => {
    while (performance.now() < deadline && errors < MAX_ERRORS) {
      try {
        const res = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: jsonRequestBody, keepalive: true })
        // Read the whole body: a request counts once its response has arrived in full.
        await res.arrayBuffer()
        if (res.status === 200) ok++
        else errors++
      } catch {
        errors++
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { ok, errors, elapsedMs: performance.now() - start }
}

const cpuNow = () => {
  const { user, system } = process.cpuUsage()
  return user + system
}

async function jsonLoad(command: Extract<ClientCommand, { type: 'json' }>): Promise<JsonLoadResult> {
  const cpuBefore = cpuNow()
  const { url, concurrency, durationMs } = command
  const result = command.client === 'raw' ? await rawJsonLoad(url, jsonRequestBody, concurrency, durationMs) : await fetchJsonLoad(url, concurrency, durationMs)
  return { type: 'json', ...result, clientCpuUs: cpuNow() - cpuBefore }
}

const NEWLINE = 0x0a
const DONE_FRAME = new TextEncoder().encode('data: [DONE]\n\n')

/** One long stream, read to the end; frames are counted by their newlines (each `data:` frame has exactly two). */
async function sseLoad(url: string, deltas: number): Promise<SseLoadResult> {
  const cpuBefore = cpuNow()
  const start = performance.now()
  const res = await fetch(url, { method: 'POST', headers: SSE_HEADERS, body: sseRequestBody(deltas), signal: AbortSignal.timeout(SSE_TIMEOUT_MS) })
  if (res.status !== 200 || !res.body) throw new Error(`The stream answered ${res.status}: ${await res.text()}`)
  let newlines = 0
  let bytes = 0
  // The last bytes seen, to check that the stream ended with `data: [DONE]`.
  const tail = new Uint8Array(DONE_FRAME.length)
  let tailLength = 0
  try {
    for await (const value of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += value.length
      for (let at = value.indexOf(NEWLINE); at !== -1; at = value.indexOf(NEWLINE, at + 1)) newlines++
      if (value.length >= tail.length) {
        tail.set(value.subarray(value.length - tail.length))
        tailLength = tail.length
      } else {
        const keep = Math.min(tailLength, tail.length - value.length)
        tail.copyWithin(0, tailLength - keep, tailLength)
        tail.set(value, keep)
        tailLength = keep + value.length
      }
    }
  } catch {
    // Cut off by the timeout: reported as incomplete below.
  }
  const elapsedMs = performance.now() - start
  const complete = tailLength === tail.length && tail.every((byte, i) => byte === DONE_FRAME[i])
  return { type: 'sse', frames: Math.max(0, newlines / 2 - (complete ? 1 : 0)), bytes, complete, elapsedMs, clientCpuUs: cpuNow() - cpuBefore }
}

function send(reply: ClientReply): void {
  process.send?.(reply)
}

async function handle(command: ClientCommand): Promise<void> {
  try {
    if (command.type === 'json') send(await jsonLoad(command))
    else if (command.type === 'sse') send(await sseLoad(command.url, command.deltas))
    else process.exit(0)
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) })
  }
}

if (!process.send) throw new Error('load-client.ts is started by bench/http/index.ts (it needs an IPC channel)')
process.on('disconnect', () => process.exit(0))
process.on('message', (command: ClientCommand) => void handle(command))
send({ type: 'ready' })
