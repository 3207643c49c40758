/** One SSE frame carrying a JSON payload; JSON never contains raw newlines, so one `data:` line suffices. */
export function sseData(json: string): string {
  return `data: ${json}\n\n`
}

/** A named SSE event. Event names are ours, never the client's, so no CR/LF can sneak in. */
export function sseEvent(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`
}

export const SSE_DONE = 'data: [DONE]\n\n'

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
}
