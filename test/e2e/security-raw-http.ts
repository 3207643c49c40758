import { connect } from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/**
 * One HTTP/1.1 request written byte for byte on a socket: `fetch` would normalise or refuse the hostile
 * `Host` values these tests send, so this is what actually reaches the server.
 */
export function rawRequest(port: number, head: { method: string; path: string; host: string | null; headers?: Record<string, string> }, body = ''): Promise<RawResponse> {
  const lines = [`${head.method} ${head.path} HTTP/1.1`]
  if (head.host !== null) lines.push(`Host: ${head.host}`)
  for (const [name, value] of Object.entries(head.headers ?? {})) lines.push(`${name}: ${value}`)
  if (body || head.method === 'POST') lines.push(`Content-Length: ${Buffer.byteLength(body)}`)
  lines.push('Connection: close', '', '')
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      const [statusLine = '', ...headerLines] = text.slice(0, split < 0 ? text.length : split).split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of headerLines) {
        const colon = line.indexOf(':')
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body: split < 0 ? '' : text.slice(split + 4) })
    })
    socket.write(lines.join('\r\n') + body)
  })
}

/** Resolves with how long the server took to close a socket that sent `text` and then nothing. */
export function closedAfter(port: number, text: string, giveUpMs: number): Promise<number | 'still open'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const started = Date.now()
    const giveUp = setTimeout(() => {
      socket.destroy()
      resolve('still open')
    }, giveUpMs)
    socket.on('error', () => {})
    // Read (and drop) what the server answers: a paused socket would never see the close.
    socket.resume()
    socket.on('close', () => {
      clearTimeout(giveUp)
      resolve(Date.now() - started)
    })
    socket.write(text)
  })
}
