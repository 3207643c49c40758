/** What the benchmark processes say to each other over Bun's IPC channel, and the requests they send. */

/** Which server a server process runs: ours (`Server` from @cy/http) or the bare `Bun.serve` baseline. */
export type ServerKind = 'cy' | 'bare'

/** Orchestrator → server process. */
export type ServerCommand = { type: 'cpu' } | { type: 'stop' }

/** Server process → orchestrator. CPU times are microseconds since the process started (`process.cpuUsage`). */
export type ServerReply = { type: 'ready'; url: string } | { type: 'cpu'; user: number; system: number }

/** How the JSON load is sent: raw keep-alive sockets (cheap for the client) or `fetch` with keep-alive. */
export type LoadClientKind = 'raw' | 'fetch'

/** Orchestrator → load client. */
export type ClientCommand =
  | { type: 'json'; url: string; client: LoadClientKind; concurrency: number; durationMs: number }
  | { type: 'sse'; url: string; deltas: number }
  | { type: 'stop' }

export interface JsonLoadResult {
  type: 'json'
  /** 200 responses whose body was read in full. */
  ok: number
  /** Anything else (status other than 200, network errors). */
  errors: number
  /** From the first request sent to the last response read. */
  elapsedMs: number
  /** The client process's own CPU time over the run (user + system), to tell when the client is the bottleneck. */
  clientCpuUs: number
}

export interface SseLoadResult {
  type: 'sse'
  /** `data:` frames before `data: [DONE]` (the content deltas plus the closing finish frame). */
  frames: number
  bytes: number
  /** True when the stream ended with `data: [DONE]`. */
  complete: boolean
  elapsedMs: number
  clientCpuUs: number
}

export type ClientReply = { type: 'ready' } | JsonLoadResult | SseLoadResult | { type: 'error'; message: string }

/** The one path both servers answer; the streaming request differs only in its body and `accept` header. */
export const CHAT_PATH = '/v1/chat/completions'

/** The no-op model: one short text delta, then end. */
export const NOOP_MODEL = 'noop'
/** The streaming model: `max_tokens` text deltas, pushed with back-pressure. */
export const STREAM_MODEL = 'stream'
/** The text of every streamed delta: about one token, as an LLM sends. */
export const DELTA_TEXT = ' token'
/** What the no-op model says. */
export const NOOP_TEXT = 'hi'

export const jsonRequestBody = JSON.stringify({ model: NOOP_MODEL, messages: [{ role: 'user', content: 'Say hi.' }] })

/** The streaming request; `max_tokens` tells both servers how many deltas to send. */
export const sseRequestBody = (deltas: number) =>
  JSON.stringify({ model: STREAM_MODEL, stream: true, max_tokens: deltas, messages: [{ role: 'user', content: 'Talk for a long time.' }] })
