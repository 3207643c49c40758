/**
 * A minimal HTTP/1.1 load loop on raw keep-alive sockets (`Bun.connect`), one request in flight per
 * connection. It costs the client a fraction of what `fetch` does per request, so on a two-core machine
 * the server under test, not the client, is what runs out of CPU. It understands only what the benchmark
 * needs: responses with a Content-Length (anything else counts as an error and closes the connection).
 */
import type { Socket } from 'bun'

export interface RawLoadResult {
  ok: number
  errors: number
  elapsedMs: number
}

const HEADER_END = Buffer.from('\r\n\r\n')
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i
/** Extra time after the run's end for connections to finish and close before giving up on them. */
const GRACE_MS = 10_000

interface Connection {
  /** Bytes of a response that has not fully arrived yet. */
  pending: Buffer | undefined
  /** Unsent tail of the request when the socket could not take all of it. */
  unsent: Uint8Array | undefined
  /** Set when we end the connection; a close without it is the server hanging up early. */
  ended: boolean
}

export function rawJsonLoad(url: string, body: string, concurrency: number, durationMs: number): Promise<RawLoadResult> {
  const { hostname, port, pathname } = new URL(url)
  const request = Buffer.from(
    `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
  let ok = 0
  let errors = 0
  let open = concurrency
  const start = performance.now()
  const deadline = start + durationMs
  let lastResponse = start

  return new Promise<RawLoadResult>((resolve) => {
    let settled = false
    const finish = () => {
      if (settled) return
      settled = true
      clearTimeout(guard)
      resolve({ ok, errors, elapsedMs: lastResponse - start })
    }
    // Bounded even if a server stops answering mid-run.
    const guard = setTimeout(finish, durationMs + GRACE_MS)

    const end = (socket: Socket<Connection>) => {
      socket.data.ended = true
      socket.end()
    }

    const write = (socket: Socket<Connection>, bytes: Uint8Array) => {
      const written = socket.write(bytes)
      socket.data.unsent = written < bytes.length ? bytes.subarray(Math.max(0, written)) : undefined
    }

    /** Takes every complete response off the front of `bytes`; returns what is left, or null on a bad response. */
    const consume = (socket: Socket<Connection>, bytes: Buffer): Buffer | null | undefined => {
      let rest: Buffer = bytes
      while (rest.length > 0) {
        const headerEnd = rest.indexOf(HEADER_END)
        if (headerEnd === -1) return rest
        const head = rest.toString('latin1', 0, headerEnd)
        const length = CONTENT_LENGTH.exec(head)?.[1]
        if (length === undefined) return null
        const total = headerEnd + HEADER_END.length + Number(length)
        if (rest.length < total) return rest
        // "HTTP/1.1 200 ..." : the status code is at a fixed place.
        if (head.startsWith('200', 9)) ok++
        else errors++
        lastResponse = performance.now()
        rest = rest.subarray(total)
        if (lastResponse < deadline) write(socket, request)
        else end(socket)
      }
      return undefined
    }

    const closed = (socket?: Socket<Connection>) => {
      if (socket && !socket.data.ended) errors++
      open--
      if (open === 0) finish()
    }

    for (let i = 0; i < concurrency; i++) {
      Bun.connect<Connection>({
        hostname,
        port: Number(port),
        data: { pending: undefined, unsent: undefined, ended: false },
        socket: {
          open: (socket) => write(socket, request),
          drain: (socket) => {
            if (socket.data.unsent) write(socket, socket.data.unsent)
          },
          data: (socket, chunk) => {
            const bytes = socket.data.pending ? Buffer.concat([socket.data.pending, chunk]) : chunk
            const rest = consume(socket, bytes)
            if (rest === null) {
              errors++
              end(socket)
            }
            socket.data.pending = rest ?? undefined
          },
          close: (socket) => closed(socket),
          error: () => {
            errors++
          },
        },
      }).catch(() => {
        errors++
        closed()
      })
    }
  })
}
