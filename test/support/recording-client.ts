import OpenAI from 'openai'

/** One request the SDK made and the raw response it got, for checking bodies against OpenAI's schemas. */
export interface Exchange {
  method: string
  url: string
  status: number
  contentType: string
  bytes: Uint8Array
  text: string
}

/**
 * The official `openai` SDK pointed at our server, with a fetch that keeps a copy of every raw
 * response, so a test can check exactly what went over the wire as well as what the SDK made of it.
 */
export function recordingClient(baseURL: string, apiKey = 'no-key') {
  const pending: Promise<Exchange>[] = []
  const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init)
    const copy = response.clone()
    pending.push(
      copy.arrayBuffer().then((buffer) => {
        const bytes = new Uint8Array(buffer)
        return {
          method: init?.method ?? 'GET',
          url: String(input instanceof Request ? input.url : input),
          status: response.status,
          contentType: response.headers.get('content-type') ?? '',
          bytes,
          text: new TextDecoder().decode(bytes),
        }
      }),
    )
    return response
  }
  const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, fetch: recordingFetch as typeof fetch, maxRetries: 0 })
  return {
    client,
    /** The last exchange, once its body has been read in full. */
    last: async (): Promise<Exchange> => {
      const exchange = await pending.at(-1)
      if (!exchange) throw new Error('No request was made')
      return exchange
    },
    all: () => Promise.all(pending),
  }
}

/** The JSON payloads of an SSE body's `data:` lines, without the final `[DONE]`. */
export function sseFrames(body: string): unknown[] {
  const frames: unknown[] = []
  for (const block of body.split('\n\n')) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n')
    if (data && data !== '[DONE]') frames.push(JSON.parse(data))
  }
  return frames
}
