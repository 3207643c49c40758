import { OutputChunk, type ChatRequest } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

const WORDS = ['The', ' quick', ' brown', ' fox', ' — ', '🦊', ' jumps']
/** A 1×1 PNG: image parts must hold an image (the server checks data URIs before a handler sees them). */
const TINY_PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
let server: Server
let seen: ChatRequest | undefined

beforeAll(async () => {
  server = await startTestServer({}, (s) => {
    // Streams word by word, reporting usage like an engine would.
    s.registerChat('words', (req, out) => {
      seen = req
      for (const word of WORDS) out.push(OutputChunk.textDelta(word))
      out.push(OutputChunk.usage(11, WORDS.length))
      out.push(OutputChunk.finish('stop'))
      out.end()
    })
    // The seed's non-streaming style: the whole answer at once.
    s.registerChat('final', (req, out) => {
      out.push(OutputChunk.finalText(`echo: ${String(req.messages.at(-1)?.content)}`))
      out.end()
    })
    // An async handler that calls a tool, streaming its arguments in pieces.
    s.registerChat('tools', async (_req, out) => {
      out.push(OutputChunk.toolCallDelta({ callIndex: 0, id: 'call_1', name: 'get_weather', argumentsDelta: '{"city":' }))
      await Bun.sleep(1)
      out.push(OutputChunk.toolCallDelta({ callIndex: 0, argumentsDelta: '"Paris"}' }))
      out.push(OutputChunk.toolCall({ callIndex: 1, id: 'call_2', name: 'get_time', arguments: '{}' }))
      out.push(OutputChunk.finish('tool_calls'))
      out.end()
    })
    // Declares `n` and logprobs: a choice per index, each token with its logprob and one alternative.
    s.registerChat(
      'choices',
      (req, out) => {
        seen = req
        for (let index = 0; index < (req.n ?? 1); index++) {
          for (const token of ['a', 'b']) {
            if (req.logprobs) out.push(OutputChunk.logprobs([{ token, logprob: -0.5, bytes: [token.charCodeAt(0)], top: [{ token, logprob: -0.5, bytes: [token.charCodeAt(0)] }] }], index))
            out.push(OutputChunk.textDelta(`${token}${index}`, index))
          }
          out.push(OutputChunk.finish(index === 0 ? 'stop' : 'length', index))
        }
        out.push(OutputChunk.usage(5, 4 * (req.n ?? 1)))
        out.end()
      },
      { supports: { chat: ['n', 'logprobs', 'top_logprobs', 'reasoning_effort'] } },
    )
    s.registerChat('length', (_req, out) => {
      out.push(OutputChunk.textDelta('cut'))
      out.push(OutputChunk.finish('length'))
      out.end()
    })
  })
})
afterAll(() => server.stop())

describe('POST /v1/chat/completions', () => {
  test('non-streaming: the SDK gets the text, and the body matches OpenAI’s schema', async () => {
    const { client, last } = recordingClient(server.url)
    const completion = await client.chat.completions.create({ model: 'words', messages: [{ role: 'user', content: 'hi' }] })
    expect(completion.choices[0]!.message.content).toBe(WORDS.join(''))
    expect(completion.choices[0]!.finish_reason).toBe('stop')
    expect(completion.usage).toEqual({ prompt_tokens: 11, completion_tokens: WORDS.length, total_tokens: 11 + WORDS.length })
    expect(completion.object).toBe('chat.completion')
    expect(completion.id).toMatch(/^chatcmpl-/)
    const exchange = await last()
    expect(exchange.status).toBe(200)
    expect(exchange.contentType).toContain('application/json')
    assertMatchesSchema('CreateChatCompletionResponse', JSON.parse(exchange.text))
  })

  test('streaming: deltas concatenate to the non-streamed text; every frame matches the chunk schema', async () => {
    const { client, last } = recordingClient(server.url)
    const whole = await client.chat.completions.create({ model: 'words', messages: [{ role: 'user', content: 'hi' }] })
    const stream = await client.chat.completions.create({ model: 'words', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    let text = ''
    const reasons: Array<string | null> = []
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      reasons.push(chunk.choices[0]?.finish_reason ?? null)
    }
    expect(text).toBe(whole.choices[0]!.message.content!)
    expect(reasons.at(-1)).toBe('stop')
    const exchange = await last()
    expect(exchange.contentType).toContain('text/event-stream')
    expect(exchange.text.trimEnd().endsWith('data: [DONE]')).toBe(true)
    const frames = sseFrames(exchange.text)
    expect(frames.length).toBe(WORDS.length + 1)
    for (const frame of frames) assertMatchesSchema('CreateChatCompletionStreamResponse', frame)
    expect((frames[0] as { choices: Array<{ delta: { role?: string } }> }).choices[0]!.delta.role).toBe('assistant')
    const ids = new Set(frames.map((frame) => (frame as { id: string }).id))
    expect(ids.size).toBe(1)
  })

  test('stream_options.include_usage adds a last chunk with usage and no choices', async () => {
    const { client, last } = recordingClient(server.url)
    const stream = await client.chat.completions.create({
      model: 'words',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    const final = chunks.at(-1)!
    expect(final.choices).toEqual([])
    expect(final.usage).toEqual({ prompt_tokens: 11, completion_tokens: WORDS.length, total_tokens: 11 + WORDS.length })
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull()
    for (const frame of sseFrames((await last()).text)) assertMatchesSchema('CreateChatCompletionStreamResponse', frame)
  })

  test('a handler that sends only final text works both ways', async () => {
    const { client } = recordingClient(server.url)
    const whole = await client.chat.completions.create({ model: 'final', messages: [{ role: 'user', content: 'ping' }] })
    expect(whole.choices[0]!.message.content).toBe('echo: ping')
    expect(whole.usage).toBeUndefined()
    const stream = await client.chat.completions.create({ model: 'final', stream: true, messages: [{ role: 'user', content: 'ping' }] })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe('echo: ping')
  })

  test('the handler receives the request as sent, with max_completion_tokens read as max_tokens', async () => {
    const { client } = recordingClient(server.url)
    await client.chat.completions.create({
      model: 'words',
      temperature: 0.3,
      top_p: 0.9,
      seed: 7,
      stop: ['\n'],
      max_completion_tokens: 42,
      user: 'u1',
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: TINY_PNG } }] },
      ],
    })
    expect(seen).toMatchObject({
      model: 'words',
      temperature: 0.3,
      top_p: 0.9,
      seed: 7,
      stop: ['\n'],
      max_tokens: 42,
      max_completion_tokens: 42,
      user: 'u1',
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
    })
    expect(seen!.tools![0]!.function.name).toBe('f')
    expect(seen!.messages[1]!.content).toEqual([
      { type: 'text', text: 'what is this?' },
      { type: 'image_url', image_url: { url: TINY_PNG } },
    ])
  })

  test('tool calls: JSON and streamed, with finish_reason tool_calls', async () => {
    const { client, last } = recordingClient(server.url)
    // The calls name tools the request offers (by default a call to an unknown tool never reaches the client).
    const tools = ['get_weather', 'get_time'].map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object' } } }))
    const whole = await client.chat.completions.create({ model: 'tools', messages: [{ role: 'user', content: 'weather?' }], tools })
    const message = whole.choices[0]!.message
    expect(whole.choices[0]!.finish_reason).toBe('tool_calls')
    expect(message.content).toBeNull()
    expect(message.tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ])
    assertMatchesSchema('CreateChatCompletionResponse', JSON.parse((await last()).text))

    const stream = client.chat.completions.stream({ model: 'tools', messages: [{ role: 'user', content: 'weather?' }], tools })
    const final = await stream.finalChatCompletion()
    expect(final.choices[0]!.message.tool_calls?.map((call) => (call.type === 'function' ? call.function : undefined))).toEqual([
      { name: 'get_weather', arguments: '{"city":"Paris"}' },
      { name: 'get_time', arguments: '{}' },
    ])
    expect(final.choices[0]!.finish_reason).toBe('tool_calls')
    for (const frame of sseFrames((await last()).text)) assertMatchesSchema('CreateChatCompletionStreamResponse', frame)
  })

  test('finish_reason length comes through', async () => {
    const { client } = recordingClient(server.url)
    const whole = await client.chat.completions.create({ model: 'length', messages: [{ role: 'user', content: 'x' }] })
    expect(whole.choices[0]!.finish_reason).toBe('length')
  })

  test('unknown request fields are accepted and passed to the handler', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'words', messages: [{ role: 'user', content: 'x' }], metadata: { a: '1' }, my_extension: 'low' }),
    })
    expect(response.status).toBe(200)
    expect((seen as unknown as Record<string, unknown>).my_extension).toBe('low')
  })

  test.each([
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ logprobs: true, top_logprobs: 2 }, 'logprobs'],
    [{ reasoning_effort: 'low' }, 'reasoning_effort'],
    [{ modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } }, 'audio'],
    [{ prediction: { type: 'content', content: 'x' } }, 'prediction'],
    [{ service_tier: 'flex' }, 'service_tier'],
    [{ store: true }, 'store'],
    [{ verbosity: 'low' }, 'verbosity'],
  ])('a field the model does not declare is a 400 unsupported_parameter naming it, not ignored: %j', async (fields, param) => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'words', messages: [{ role: 'user', content: 'x' }], ...fields }),
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { param: string; code: string; message: string } }
    assertMatchesSchema('ErrorResponse', body)
    expect(body.error).toMatchObject({ param, code: 'unsupported_parameter', message: `Model 'words' does not support '${param}'.` })
  })

  test('n: 1 and logprobs: false ask for nothing, so any model takes them; a model that declares a field gets it', async () => {
    const { client } = recordingClient(server.url)
    const plain = await client.chat.completions.create({ model: 'words', messages: [{ role: 'user', content: 'x' }], n: 1, logprobs: false })
    expect(plain.choices.length).toBe(1)
    await client.chat.completions.create({ model: 'choices', messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'low' })
    expect((seen as unknown as Record<string, unknown>).reasoning_effort).toBe('low')
  })

  test('top_logprobs without logprobs is a 400 naming top_logprobs', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'choices', messages: [{ role: 'user', content: 'x' }], top_logprobs: 2 }),
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('top_logprobs')
  })

  test('n choices with logprobs: JSON and SSE in OpenAI’s shapes, a choice per index, usage once', async () => {
    const { client, last } = recordingClient(server.url)
    const request = { model: 'choices', messages: [{ role: 'user' as const, content: 'x' }], n: 2, logprobs: true, top_logprobs: 1 }
    const whole = await client.chat.completions.create(request)
    assertMatchesSchema('CreateChatCompletionResponse', JSON.parse((await last()).text))
    expect(whole.choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason])).toEqual([
      [0, 'a0b0', 'stop'],
      [1, 'a1b1', 'length'],
    ])
    expect(whole.choices[1]!.logprobs!.content!.map((entry) => entry.token)).toEqual(['a', 'b'])
    expect(whole.choices[1]!.logprobs!.content![0]).toEqual({ token: 'a', logprob: -0.5, bytes: [97], top_logprobs: [{ token: 'a', logprob: -0.5, bytes: [97] }] })
    expect(whole.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 })

    const stream = await client.chat.completions.create({ ...request, stream: true })
    const texts = ['', '']
    const tokens: string[][] = [[], []]
    const finishes: Array<string | null> = [null, null]
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? ''
        tokens[choice.index]!.push(...(choice.logprobs?.content ?? []).map((entry) => entry.token))
        if (choice.finish_reason) finishes[choice.index] = choice.finish_reason
      }
    }
    for (const frame of sseFrames((await last()).text)) assertMatchesSchema('CreateChatCompletionStreamResponse', frame)
    expect(texts).toEqual(['a0b0', 'a1b1'])
    expect(tokens).toEqual([['a', 'b'], ['a', 'b']])
    expect(finishes).toEqual(['stop', 'length'])
  })
})

describe('the Elysia plugin path (server.app.handle, no port) answers as the listening server does', () => {
  const post = (body: unknown) =>
    new Request('http://in-process/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

  test('a completion, an SSE stream, and a validation error', async () => {
    const ok = await server.app.handle(post({ model: 'words', messages: [{ role: 'user', content: 'hi' }] }))
    const body = (await ok.json()) as { choices: Array<{ message: { content: string } }> }
    assertMatchesSchema('CreateChatCompletionResponse', body)
    expect(body.choices[0]!.message.content).toBe(WORDS.join(''))

    const stream = await server.app.handle(post({ model: 'words', stream: true, messages: [{ role: 'user', content: 'hi' }] }))
    const frames = sseFrames(await stream.text()) as Array<{ choices: Array<{ delta: { content?: string } }> }>
    expect(frames.map((f) => f.choices[0]?.delta.content ?? '').join('')).toBe(WORDS.join(''))

    const bad = { model: 'words', messages: [{ role: 'robot', content: 'hi' }] }
    const [viaPlugin, viaServer] = await Promise.all([
      server.app.handle(post(bad)),
      fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bad) }),
    ])
    expect(viaPlugin.status).toBe(400)
    expect(await viaPlugin.json()).toEqual(await viaServer.json())
  })

  test('one request path: body parsing, content types and the checks are the same handler either way', async () => {
    const raw = (base: string, body: string, headers: Record<string, string>) =>
      new Request(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body })
    const both = async (body: string, headers: Record<string, string> = {}) => {
      const [viaPlugin, viaServer] = await Promise.all([server.app.handle(raw('http://in-process', body, headers)), fetch(raw(server.url, body, headers))])
      expect(viaPlugin.status).toBe(viaServer.status)
      const [plugin, listening] = await Promise.all([viaPlugin.json(), viaServer.json()])
      return { status: viaServer.status, plugin, listening }
    }
    // `curl -d` style: any content type is read as JSON, and answered alike.
    const plain = await both(JSON.stringify({ model: 'words', messages: [{ role: 'user', content: 'hi' }] }))
    expect(plain.status).toBe(200)
    expect((plain.plugin as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(WORDS.join(''))
    const broken = await both('{"model":')
    expect(broken.status).toBe(400)
    expect(broken.plugin).toEqual(broken.listening)
    const foreign = await both('{}', { origin: 'http://evil.example' })
    expect(foreign.status).toBe(403)
    expect(foreign.plugin).toEqual(foreign.listening)
  })
})
