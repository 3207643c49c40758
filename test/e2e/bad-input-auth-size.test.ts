import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import OpenAI from 'openai'
import { recordingClient } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'
import { expectApiError, expectErrorBody, expectNoStackTrace, JSON_HEADERS, postJson, userMessages } from './bad-input-helpers.ts'

const reply = (_req: unknown, out: { push: (c: OutputChunk) => boolean; end: () => void }) => {
  out.push(OutputChunk.textDelta('ok'))
  out.end()
}

describe('bad input: API key', () => {
  let server: Server
  let url: string

  beforeAll(async () => {
    server = await startTestServer({ apiKey: 'secret' }, (s) => s.registerChat('chat-a', reply))
    url = server.url
  })

  afterAll(async () => {
    await server.stop()
  })

  const chat = (headers: Record<string, string>) => postJson(`${url}/v1/chat/completions`, { model: 'chat-a', messages: userMessages }, headers)

  test('5a. no key → 401 authentication_error', async () => {
    const response = await chat({})
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
    await expectApiError(response, { status: 401, type: 'authentication_error', code: 'invalid_api_key' })
  })

  test('5b. wrong key → 401 authentication_error', async () => {
    await expectApiError(await chat({ authorization: 'Bearer not-the-secret' }), { status: 401, type: 'authentication_error' })
    await expectApiError(await chat({ 'x-api-key': 'not-the-secret' }), { status: 401, type: 'authentication_error' })
  })

  test('5c. the key as `Authorization: Bearer` → 200', async () => {
    const response = await chat({ authorization: 'Bearer secret' })
    expect(response.status).toBe(200)
    expect(((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe('ok')
  })

  test('5d. the key as `X-API-Key` → 200', async () => {
    const response = await chat({ 'x-api-key': 'secret' })
    expect(response.status).toBe(200)
    expect(((await response.json()) as { object: string }).object).toBe('chat.completion')
  })

  test('5e. /health needs no key', async () => {
    const response = await fetch(`${url}/health`)
    expect(response.status).toBe(200)
    expect(((await response.json()) as { status: string }).status).toBe('ok')
  })

  test('5f. a wrong key through the SDK → OpenAI.AuthenticationError', async () => {
    const { client, last } = recordingClient(url, 'wrong-key')
    const error = await client.chat.completions
      .create({ model: 'chat-a', messages: [{ role: 'user', content: 'hi' }] })
      .then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401)
    const exchange = await last()
    expectNoStackTrace(exchange.text)
    expectErrorBody(JSON.parse(exchange.text), { type: 'authentication_error' })
  })
})

describe('bad input: oversized bodies', () => {
  let server: Server
  let url: string
  let calls = 0

  beforeAll(async () => {
    server = await startTestServer({ maxBodyBytes: 1024, maxUploadBytes: 1024 }, (s) => {
      s.registerChat('chat-a', (req, out) => {
        calls++
        reply(req, out)
      })
      s.registerASR('whisper', (req, out) => {
        calls++
        out.push(OutputChunk.textDelta(`heard ${req.file.bytes.length} bytes`))
        out.end()
      })
    })
    url = server.url
  })

  afterAll(async () => {
    await server.stop()
  })

  const bigBody = () => JSON.stringify({ model: 'chat-a', messages: [{ role: 'user', content: 'x'.repeat(10_000) }] })

  /** A body sent chunked (no content-length): the server only learns its size by reading it. */
  const chunked = (content: string | Uint8Array, pieces = 10) => {
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content
    const size = Math.ceil(bytes.length / pieces)
    let offset = 0
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close()
        controller.enqueue(bytes.slice(offset, offset + size))
        offset += size
      },
    })
  }

  const postChunked = (text: string) =>
    fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: JSON_HEADERS, body: chunked(text), duplex: 'half' } as RequestInit)

  /** A multipart transcription upload of `size` audio bytes, sent chunked. */
  const uploadChunked = async (size: number) => {
    const form = new FormData()
    form.set('model', 'whisper')
    form.set('file', new File([new Uint8Array(size).fill(7)], 'clip.wav', { type: 'audio/wav' }))
    const encoded = new Request('http://form.invalid', { method: 'POST', body: form })
    const contentType = encoded.headers.get('content-type')!
    const bytes = new Uint8Array(await encoded.arrayBuffer())
    return fetch(`${url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: chunked(bytes),
      duplex: 'half',
    } as RequestInit)
  }

  test('6a. a 10 kB JSON body over maxBodyBytes 1024 → 413, OpenAI-shaped', async () => {
    const before = calls
    const response = await postJson(`${url}/v1/chat/completions`, bigBody())
    await expectApiError(response, { status: 413, type: 'invalid_request_error', code: 'payload_too_large' })
    expect(calls).toBe(before)
  })

  test('6b. the same body sent chunked (no content-length) → 413', async () => {
    const before = calls
    const response = await postChunked(bigBody())
    await expectApiError(response, { status: 413, type: 'invalid_request_error', code: 'payload_too_large' })
    expect(calls).toBe(before)
  })

  test('6c. a chunked body under the limit is still served', async () => {
    const response = await postChunked(JSON.stringify({ model: 'chat-a', messages: userMessages }))
    expect(response.status).toBe(200)
    expect(((await response.json()) as { object: string }).object).toBe('chat.completion')
  })

  test('6d. a chunked multipart upload over the limit → 413; under it, it is served', async () => {
    const before = calls
    await expectApiError(await uploadChunked(4096), { status: 413, type: 'invalid_request_error', code: 'payload_too_large' })
    expect(calls).toBe(before)
    const response = await uploadChunked(100)
    expect({ status: response.status, body: await response.json() }).toEqual({ status: 200, body: { text: 'heard 100 bytes' } })
  })

  test('6e. an upload is never cut below what a loaded model declares it takes (metadata.maxUploadBytes)', async () => {
    const big = await startTestServer({ maxBodyBytes: 1024, maxUploadBytes: 1024 }, (s) =>
      s.registerModel(
        'big-ears',
        {
          asr: (req, out) => {
            out.push(OutputChunk.textDelta(`heard ${req.file.bytes.length} bytes`))
            out.end()
          },
        },
        { metadata: { maxUploadBytes: 8192 } },
      ),
    )
    try {
      const upload = (size: number) => {
        const form = new FormData()
        form.set('model', 'big-ears')
        form.set('file', new File([new Uint8Array(size).fill(7)], 'clip.wav', { type: 'audio/wav' }))
        return fetch(`${big.url}/v1/audio/transcriptions`, { method: 'POST', body: form })
      }
      const accepted = await upload(4096)
      expect({ status: accepted.status, body: await accepted.json() }).toEqual({ status: 200, body: { text: 'heard 4096 bytes' } })
      await expectApiError(await upload(10_000), { status: 413, type: 'invalid_request_error', code: 'payload_too_large' })
      // JSON bodies keep their own limit.
      await expectApiError(await postJson(`${big.url}/v1/chat/completions`, bigBody()), { status: 413, code: 'payload_too_large' })
    } finally {
      await big.stop()
    }
  })
})
