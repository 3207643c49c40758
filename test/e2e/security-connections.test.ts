import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import { connect } from 'node:net'
import { recordingClient } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'
import { closedAfter } from './security-raw-http.ts'

const IDLE_SECONDS = 1
const partialBody = (port: number) =>
  `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`

let server: Server
/** How long the server took to close a connection that stopped sending: what "silent too long" means here. */
let enforcedMs: number
/** A model that says nothing for longer than that. */
let silentMs: number
/** Started together once the idle time is known, so the file waits for the silence once. */
let slow: { headers: Promise<number | 'still open'>; json: Promise<Response>; upload: Promise<Response>; sse: Promise<Response>; sdk: Promise<string> }

beforeAll(async () => {
  server = await startTestServer({ readTimeoutSeconds: IDLE_SECONDS, sseKeepAliveMs: 250 }, (s) => {
    s.registerChat('slow', async (req, out) => {
      if (req.stream) out.push(OutputChunk.textDelta('thinking'))
      await Bun.sleep(silentMs)
      out.push(OutputChunk.textDelta(' done'))
      out.end()
    })
    s.registerChat('chat-fast', (_req, out) => {
      out.push(OutputChunk.textDelta('ok'))
      out.end()
    })
    s.registerASR('slow-ears', async (_req, out) => {
      await Bun.sleep(silentMs)
      out.push(OutputChunk.finalText('heard'))
      out.end()
    })
  })
  const closed = await closedAfter(server.port, partialBody(server.port), 30_000)
  if (closed === 'still open') throw new Error('The server kept an idle connection open for 30 s')
  enforcedMs = closed
  // Two of those: at least one full tick of Bun's idle timer passes while the model is silent.
  silentMs = 2 * closed + 1000
  const form = new FormData()
  form.set('model', 'slow-ears')
  form.set('file', new File([new Uint8Array(64).fill(1)], 'clip.wav', { type: 'audio/wav' }))
  const chat = (stream: boolean) =>
    fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', stream, messages: [{ role: 'user', content: 'hi' }] }),
    })
  slow = {
    headers: closedAfter(server.port, `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Slow: `, 30_000),
    json: chat(false),
    upload: fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form }),
    sse: chat(true),
    sdk: (async () => {
      // The SDK skips the comments: the same stream reads as if there were none.
      const stream = await recordingClient(server.url).client.chat.completions.create({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] })
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
      return text
    })(),
  }
}, 60_000)
afterAll(() => server.stop())

describe('idle connections', () => {
  test('connections that declared a body and stopped sending are closed by the server within the idle timeout', async () => {
    // Bun's timer has a granularity of a few seconds: what is checked is "closed", and well before a minute.
    expect(enforcedMs).toBeGreaterThanOrEqual(IDLE_SECONDS * 1000 - 50)
    expect(enforcedMs).toBeLessThan(15_000)
    const many = await Promise.all(Array.from({ length: 50 }, () => closedAfter(server.port, partialBody(server.port), 30_000)))
    expect(many.filter((result) => result === 'still open')).toEqual([])
  }, 35_000)

  test('a connection that never finishes its headers is closed too', async () => {
    expect(await slow.headers).not.toBe('still open')
  }, 35_000)

  test('a non-streaming answer that takes longer than the idle timeout still arrives (the body was in)', async () => {
    const response = await slow.json
    expect(response.status).toBe(200)
    expect(((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(' done')
  }, 30_000)

  test('a transcription upload whose model is silent longer than the idle timeout still gets its answer', async () => {
    const response = await slow.upload
    expect({ status: response.status, body: await response.json() }).toEqual({ status: 200, body: { text: 'heard' } })
  }, 30_000)

  test('an SSE stream whose model is silent longer than the idle timeout gets `: keep-alive` comments, then its answer', async () => {
    const text = await (await slow.sse).text()
    const frames = text.split('\n\n').filter(Boolean)
    const first = frames.findIndex((frame) => frame.includes('thinking'))
    const last = frames.findIndex((frame) => frame.includes(' done'))
    expect(first).toBeGreaterThanOrEqual(0)
    expect(last).toBeGreaterThan(first)
    // Every frame in the silence is a comment; there is at least one (250 ms apart over a silence of seconds).
    const between = frames.slice(first + 1, last)
    expect(between.length).toBeGreaterThanOrEqual(2)
    expect(between.every((frame) => frame === ': keep-alive')).toBe(true)
    expect(frames.at(-1)).toBe('data: [DONE]')
    expect(await slow.sdk).toBe('thinking done')
  }, 30_000)
})

describe('after an answer', () => {
  test('a kept-alive connection left idle after an answer is closed, not held open forever', async () => {
    const closed = await closedAfter(server.port, `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`, 30_000)
    expect(closed).not.toBe('still open')
    const chat = JSON.stringify({ model: 'chat-fast', messages: [{ role: 'user', content: 'hi' }] })
    const post = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: ${chat.length}\r\n\r\n${chat}`
    expect(await closedAfter(server.port, post, 30_000)).not.toBe('still open')
  }, 65_000)

  test('a finished SSE stream closes its connection', async () => {
    const chat = JSON.stringify({ model: 'chat-fast', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    const post = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: ${chat.length}\r\n\r\n${chat}`
    const closed = await closedAfter(server.port, post, 30_000)
    expect(closed).not.toBe('still open')
    expect(closed as number).toBeLessThan(enforcedMs)
  }, 35_000)
})

describe('malformed requests never reach a development error page', () => {
  const raw = (text: string) =>
    new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1')
      let out = ''
      socket.on('data', (chunk) => (out += chunk))
      socket.on('close', () => resolve(out))
      socket.on('error', () => resolve(out))
      socket.write(text)
    })

  test('hostile Hosts, bad escapes, absolute targets, broken multipart and chunking: JSON errors or a bare status, no HTML, no stack', async () => {
    const host = `127.0.0.1:${server.port}`
    const inputs = [
      'GET /v1/models HTTP/1.0\r\n\r\n',
      `GET /v1/models HTTP/1.1\r\nHost: x#\r\nConnection: close\r\n\r\n`,
      `GET /v1/models HTTP/1.1\r\nHost: x/h?\r\nConnection: close\r\n\r\n`,
      `GET /v1/models/%E0%A4%A HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      `GET http://x/v1/models HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      `POST /v1/audio/transcriptions HTTP/1.1\r\nHost: ${host}\r\nContent-Type: multipart/form-data; boundary=zz\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"a":`,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
    ]
    for (const input of inputs) {
      const answer = await raw(input)
      const [head = '', body = ''] = answer.split('\r\n\r\n')
      const status = Number(head.split(' ')[1])
      expect({ input, status: status >= 400 && status < 500 ? '4xx' : status }).toEqual({ input, status: status === 200 ? 200 : '4xx' })
      expect(head.toLowerCase()).not.toContain('text/html')
      expect(body).not.toMatch(/<html|\.ts:\d|at .*\(\//i)
    }
  })
})
