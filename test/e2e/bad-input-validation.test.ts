import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import OpenAI from 'openai'
import { recordingClient } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'
import { expectApiError, expectErrorBody, expectNoStackTrace, postJson, userMessages } from './bad-input-helpers.ts'

// Malformed, incomplete and mistyped requests; unknown models and routes.
describe('bad input: validation, unknown models and routes', () => {
  let server: Server
  let url: string
  let calls = 0

  beforeAll(async () => {
    server = await startTestServer({}, (s) => {
      const echo = (_req: unknown, out: { push: (c: OutputChunk) => boolean; end: () => void }) => {
        calls++
        out.push(OutputChunk.textDelta('ok'))
        out.end()
      }
      s.registerChat('chat-a', echo)
      s.registerChat('chat-b', echo)
      s.registerEmbedding('embed-1', (_req, out) => {
        calls++
        out.push(OutputChunk.embedding(0, [1, 0]))
        out.end()
      })
      s.registerEmbedding('embed-2', (_req, out) => {
        calls++
        out.push(OutputChunk.embedding(0, [0, 1]))
        out.end()
      })
      s.registerASR('whisper', (_req, out) => {
        calls++
        out.push(OutputChunk.textDelta('words'))
        out.end()
      })
    })
    url = server.url
  })

  afterAll(async () => {
    await server.stop()
  })

  const chat = (body: unknown) => postJson(`${url}/v1/chat/completions`, body)

  test('1. malformed JSON body → 400 invalid_request_error', async () => {
    await expectApiError(await chat('{"model": "chat-a", "messages": [}'), { status: 400, type: 'invalid_request_error', param: null, code: 'invalid_json' })
  })

  test("2a. missing `messages` → 400 with param 'messages'", async () => {
    await expectApiError(await chat({ model: 'chat-a' }), {
      status: 400,
      type: 'invalid_request_error',
      param: 'messages',
      message: /messages/,
    })
  })

  test("2b. missing `model` → 400 with param 'model'", async () => {
    await expectApiError(await chat({ messages: userMessages }), {
      status: 400,
      type: 'invalid_request_error',
      param: 'model',
      message: /model/,
    })
  })

  test('3a. `messages: "hi"` → 400 naming messages', async () => {
    await expectApiError(await chat({ model: 'chat-a', messages: 'hi' }), { status: 400, type: 'invalid_request_error', param: 'messages' })
  })

  test('3b. `temperature: "hot"` → 400 naming temperature', async () => {
    await expectApiError(await chat({ model: 'chat-a', messages: userMessages, temperature: 'hot' }), {
      status: 400,
      type: 'invalid_request_error',
      param: 'temperature',
    })
  })

  test('3c. `messages[0].role: "robot"` → 400 naming messages[0].role', async () => {
    const body = await expectApiError(await chat({ model: 'chat-a', messages: [{ role: 'robot', content: 'hi' }] }), {
      status: 400,
      type: 'invalid_request_error',
      param: 'messages[0].role',
    })
    // The message says what would have been accepted.
    expect(body.error.message).toContain('user')
  })

  test('3d. invalid `encoding_format` on /v1/embeddings → 400 naming encoding_format', async () => {
    await expectApiError(await postJson(`${url}/v1/embeddings`, { model: 'embed-1', input: 'x', encoding_format: 'int8' }), {
      status: 400,
      type: 'invalid_request_error',
      param: 'encoding_format',
    })
  })

  test("3e. multipart /v1/audio/transcriptions without `file` → 400 with param 'file'", async () => {
    const form = new FormData()
    form.set('model', 'whisper')
    const response = await fetch(`${url}/v1/audio/transcriptions`, { method: 'POST', body: form })
    await expectApiError(response, { status: 400, type: 'invalid_request_error', param: 'file' })
  })

  test("3f. an empty (0-byte) audio file → 400 with param 'file'", async () => {
    const before = calls
    const form = new FormData()
    form.set('model', 'whisper')
    form.set('file', new File([], 'empty.wav', { type: 'audio/wav' }))
    const response = await fetch(`${url}/v1/audio/transcriptions`, { method: 'POST', body: form })
    await expectApiError(response, { status: 400, type: 'invalid_request_error', param: 'file' })
    expect(calls).toBe(before)
  })

  test('4a. unknown model → 404 model_not_found listing the chat models', async () => {
    await expectApiError(await chat({ model: 'nope', messages: userMessages }), {
      status: 404,
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
      // The chat models only: the embedding and ASR models are not listed.
      message: "Model 'nope' is not available. Available models: chat-a, chat-b",
    })
  })

  test('4b. unknown model through the SDK → OpenAI.NotFoundError', async () => {
    const { client, last } = recordingClient(url)
    const error = await client.chat.completions
      .create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] })
      .then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    const notFound = error as InstanceType<typeof OpenAI.NotFoundError>
    expect(notFound.status).toBe(404)
    expect(notFound.code).toBe('model_not_found')
    expect(notFound.param).toBe('model')
    const exchange = await last()
    expectNoStackTrace(exchange.text)
    expectErrorBody(JSON.parse(exchange.text), { type: 'invalid_request_error', code: 'model_not_found', param: 'model' })
  })

  test.each([
    [{ temperature: 5 }, 'temperature', "Invalid value for 'temperature': expected a number between 0 and 2, got 5."],
    [{ temperature: 'hot' }, 'temperature', 'Invalid value for \'temperature\': expected a number between 0 and 2, got "hot".'],
    [{ top_p: -1 }, 'top_p', "Invalid value for 'top_p': expected a number between 0 and 1, got -1."],
    [{ n: 0 }, 'n', "Invalid value for 'n': expected an integer between 1 and 128, got 0."],
    [{ max_tokens: 0 }, 'max_tokens', "Invalid value for 'max_tokens': expected an integer of at least 1, got 0."],
    [{ top_logprobs: 30 }, 'top_logprobs', "Invalid value for 'top_logprobs': expected an integer between 0 and 20, got 30."],
    [{ logprobs: 'yes' }, 'logprobs', 'Invalid value for \'logprobs\': expected a boolean, got "yes".'],
    [{ stop: 5 }, 'stop', "Invalid value for 'stop': expected a string or an array of at most 4 strings, got 5."],
    [{ top_k: -1 }, 'top_k', "Invalid value for 'top_k': expected an integer of at least 0, got -1."],
    [
      { response_format: { type: 'xml' } },
      'response_format.type',
      'Invalid value for \'response_format.type\': expected one of "text", "json_object", "json_schema", got "xml".',
    ],
    [{ response_format: { type: 'json_schema' } }, 'response_format.json_schema', "Missing required parameter: 'response_format.json_schema'."],
    [
      { messages: [{ role: 'robot', content: 'x' }] },
      'messages[0].role',
      'Invalid value for \'messages[0].role\': expected one of "system", "developer", "user", "assistant", "tool", "function", got "robot".',
    ],
    [
      { messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] },
      'messages[0].content[0].type',
      'Invalid value for \'messages[0].content[0].type\': expected one of "text", "image_url", "input_audio", "refusal", got "video".',
    ],
    [{ messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text', "Missing required parameter: 'messages[0].content[0].text'."],
    [
      { messages: [{ role: 'user', content: 5 }] },
      'messages[0].content',
      'Invalid value for \'messages[0].content\': expected a string or an array of objects whose \'type\' is one of "text", "image_url", "input_audio", "refusal", got 5.',
    ],
  ])('13. schema errors say what is expected, never "union value": %j', async (fields, param, message) => {
    const body = await expectApiError(await chat({ model: 'chat-a', messages: userMessages, ...fields }), { status: 400, type: 'invalid_request_error', param, message })
    expect(body.error.message).not.toMatch(/union/i)
  })

  test('11a. unknown route → 404, OpenAI-shaped', async () => {
    const response = await postJson(`${url}/v1/no/such/route`, { model: 'chat-a' })
    await expectApiError(response, { status: 404, type: 'not_found_error', param: null })
  })

  test('11b. wrong method (GET /v1/chat/completions) → OpenAI-shaped 404 or 405', async () => {
    const response = await fetch(`${url}/v1/chat/completions`)
    expect([404, 405]).toContain(response.status)
    // Whichever of the two the server picks, the body is an OpenAI error.
    const body = await expectApiError(response, { status: response.status })
    expect(body.error.message.length).toBeGreaterThan(0)
  })

  test('12. a chat-only model on /v1/embeddings → 404 model_not_found listing the embedding models', async () => {
    const response = await postJson(`${url}/v1/embeddings`, { model: 'chat-a', input: 'x' })
    await expectApiError(response, {
      status: 404,
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
      message: "Model 'chat-a' is not available. Available models: embed-1, embed-2",
    })
  })
})
