/**
 * A server process for the benchmark: `bun bench/http/servers.ts cy|bare`. Each server runs alone in its
 * own process so neither shares an event loop or a heap with the load client or the other server.
 * It reports its URL over IPC, answers CPU-time queries, and exits on `stop` or when the parent goes away.
 */
import { OutputChunk } from '@cy/core'
import { Server } from '@cy/http'
import { CHAT_PATH, DELTA_TEXT, NOOP_MODEL, NOOP_TEXT, STREAM_MODEL, type ServerCommand, type ServerKind, type ServerReply } from './protocol.ts'

/** Upper bound on deltas per stream, so a bad request cannot make an endless loop. */
const MAX_DELTAS = 10_000_000

const clampDeltas = (value: unknown) => (typeof value === 'number' && value > 0 ? Math.min(Math.floor(value), MAX_DELTAS) : 0)

interface Running {
  url: string
  stop(): Promise<void>
}

async function startCy(): Promise<Running> {
  const server = new Server({ port: 0, hostname: '127.0.0.1', docs: false })
  server.registerChat(NOOP_MODEL, (_req, out) => {
    out.push(OutputChunk.textDelta(NOOP_TEXT))
    out.end()
  })
  server.registerChat(STREAM_MODEL, async (req, out) => {
    const deltas = clampDeltas(req.max_tokens)
    for (let i = 0; i < deltas && !out.closed; i++) {
      if (!out.push(OutputChunk.textDelta(DELTA_TEXT))) await out.ready()
    }
    out.end()
  })
  const { url } = await server.start()
  return { url, stop: () => server.stop() }
}

/** The id and timestamp a chat completion carries; the baseline makes them the way an OpenAI server would. */
function completionMeta(model: string) {
  const id = `chatcmpl-${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`
  return { id, created: Math.floor(Date.now() / 1000), model }
}

/**
 * The SSE frames our server sends, built the plain way: one JSON.stringify and one enqueue per delta,
 * pulled by Bun as the socket drains (that is the baseline's back-pressure).
 */
function bareSseStream(model: string, deltas: number): ReadableStream<string> {
  const meta = completionMeta(model)
  const frame = (delta: Record<string, string>, finishReason: string | null) =>
    `data: ${JSON.stringify({
      id: meta.id,
      object: 'chat.completion.chunk',
      created: meta.created,
      model: meta.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    })}\n\n`
  let sent = 0
  return new ReadableStream<string>({
    pull(controller) {
      if (sent < deltas) {
        controller.enqueue(frame(sent === 0 ? { role: 'assistant', content: DELTA_TEXT } : { content: DELTA_TEXT }, null))
        sent++
        return
      }
      controller.enqueue(frame({}, 'stop'))
      controller.enqueue('data: [DONE]\n\n')
      controller.close()
    },
  })
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }

async function startBare(): Promise<Running> {
  // The exact body our server returned for the no-op request, handed over by the orchestrator.
  const jsonBody = process.env.BENCH_JSON_BODY
  if (!jsonBody) throw new Error('BENCH_JSON_BODY is not set')
  const jsonHeaders = { 'content-type': 'application/json' }
  // With --bare-reads-body the baseline parses each request as a real server must, still answering fixed bytes.
  const readsBody = process.env.BENCH_BARE_READS_BODY === '1'
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    // Never Bun's development error page (source, stack, cwd).
    development: false,
    error: () => new Response('{"error":{"message":"Internal server error","type":"server_error","param":null,"code":null}}', { status: 500, headers: { 'content-type': 'application/json' } }),
    routes: {
      [CHAT_PATH]: {
        async POST(req) {
          // Only the streaming request needs its body (for `max_tokens`); the JSON one answers fixed bytes.
          if (req.headers.get('accept') !== 'text/event-stream') {
            if (readsBody) await req.json()
            return new Response(jsonBody, { headers: jsonHeaders })
          }
          const body = (await req.json()) as { model?: string; max_tokens?: number }
          return new Response(bareSseStream(body.model ?? STREAM_MODEL, clampDeltas(body.max_tokens)), { headers: SSE_HEADERS })
        },
      },
    },
    fetch: () => new Response('Not found', { status: 404 }),
  })
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) }
}

function send(reply: ServerReply): void {
  process.send?.(reply)
}

async function main(): Promise<void> {
  const kind = process.argv[2] as ServerKind | undefined
  if (kind !== 'cy' && kind !== 'bare') throw new Error('usage: bun bench/http/servers.ts cy|bare')
  if (!process.send) throw new Error('servers.ts is started by bench/http/index.ts (it needs an IPC channel)')
  const running = kind === 'cy' ? await startCy() : await startBare()
  const shutDown = async () => {
    await running.stop()
    process.exit(0)
  }
  process.on('disconnect', () => void shutDown())
  process.on('message', (message: ServerCommand) => {
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage()
      send({ type: 'cpu', user, system })
    } else if (message.type === 'stop') void shutDown()
  })
  send({ type: 'ready', url: running.url })
}

await main()
