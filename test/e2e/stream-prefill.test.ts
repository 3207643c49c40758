import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BadRequestError, OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import { startTestServer } from '../support/test-server.ts'

const GRACE_MS = 50
const KEEP_ALIVE_MS = 100
const KEEP_ALIVE = ': keep-alive\n\n'

let server: Server
/** Lets the silent model speak: called by a test once it has seen what the silence must produce. */
let speak: () => void = () => {}
let spoken: Promise<void>
const silence = () => (spoken = new Promise((resolve) => (speak = resolve)))

beforeAll(async () => {
  server = await startTestServer({ streamGraceMs: GRACE_MS, sseKeepAliveMs: KEEP_ALIVE_MS }, (s) => {
    // A long prefill: nothing at all until the test says so, far past the grace period.
    const silent = async (out: { push(chunk: OutputChunk): boolean; end(): void }) => {
      await spoken
      out.push(OutputChunk.textDelta('after'))
      out.push(OutputChunk.textDelta(' the prompt'))
      out.push(OutputChunk.usage(40, 2))
      out.end()
    }
    s.registerChat('prefill', (_req, out) => silent(out))
    s.registerCompletion('prefill', (_req, out) => silent(out))
    s.registerChat('refuses', () => {
      throw new BadRequestError('roles must alternate', { param: 'messages' })
    })
    s.registerChat('fails-late', async (_req, out) => {
      await spoken
      out.fail(new Error('engine exploded'))
    })
  })
})
afterAll(() => server.stop())

const post = (path: string, body: Record<string, unknown>) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream: true, ...body }) })

/** Reads a body until `done(text)` holds, then returns what came so far; the reader stays open. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean, text = ''): Promise<string> {
  const decoder = new TextDecoder()
  while (!done(text)) {
    const next = await reader.read()
    if (next.done) break
    text += decoder.decode(next.value, { stream: true })
  }
  return text
}

const count = (text: string, part: string) => text.split(part).length - 1
const dataFrames = (text: string) =>
  text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: ') && frame !== 'data: [DONE]')
    .map((frame) => JSON.parse(frame.slice(6)))

describe('streams during a long prefill', () => {
  test('chat: past the grace period the 200 stream opens with keep-alive comments, then the whole answer', async () => {
    silence()
    const response = await post('/v1/chat/completions', { model: 'prefill', messages: [{ role: 'user', content: 'a long prompt' }] })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    const reader = response.body!.getReader()
    // The opening comment, then one a keep-alive period later: the model has still said nothing.
    const silent = await readUntil(reader, (text) => count(text, KEEP_ALIVE) >= 2)
    expect(silent).toBe(KEEP_ALIVE.repeat(2))
    speak()
    const rest = await readUntil(reader, (text) => text.endsWith('data: [DONE]\n\n'))
    const frames = dataFrames(rest)
    expect(frames.map((frame) => frame.choices[0]?.delta?.content ?? '').join('')).toBe('after the prompt')
    expect(frames.at(-1).choices[0].finish_reason).toBe('stop')
  })

  test('completions too, with their usage frame', async () => {
    silence()
    const response = await post('/v1/completions', { model: 'prefill', prompt: 'a long prompt', stream_options: { include_usage: true } })
    expect(response.status).toBe(200)
    const reader = response.body!.getReader()
    expect(await readUntil(reader, (text) => text.includes(KEEP_ALIVE))).toBe(KEEP_ALIVE)
    speak()
    const frames = dataFrames(await readUntil(reader, (text) => text.endsWith('data: [DONE]\n\n')))
    expect(frames.map((frame) => frame.choices[0]?.text ?? '').join('')).toBe('after the prompt')
    expect(frames.at(-1).usage).toEqual({ prompt_tokens: 40, completion_tokens: 2, total_tokens: 42 })
  })

  test('a model that fails at once still gets its own status, not a 200 stream', async () => {
    const response = await post('/v1/chat/completions', { model: 'refuses', messages: [{ role: 'user', content: 'hi' }] })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: { message: string; param: string } }).error).toMatchObject({ message: 'roles must alternate', param: 'messages' })
  })

  test('a failure after the stream opened is an SSE error event', async () => {
    silence()
    const response = await post('/v1/chat/completions', { model: 'fails-late', messages: [{ role: 'user', content: 'hi' }] })
    expect(response.status).toBe(200)
    const reader = response.body!.getReader()
    expect(await readUntil(reader, (text) => text.includes(KEEP_ALIVE))).toBe(KEEP_ALIVE)
    speak()
    const rest = await readUntil(reader, () => false)
    expect(dataFrames(rest)).toEqual([{ error: expect.objectContaining({ message: 'engine exploded', type: 'upstream_error' }) }])
  })
})
