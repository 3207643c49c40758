import { OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { WEATHER_TOOL } from '../support/scripted-models.ts'
import { startTestServer } from '../support/test-server.ts'
import { waitFor } from '../e2e/bad-input-helpers.ts'
import { ALL_CODE } from './code-samples.ts'

const aborted: string[] = []
let server: Server

/** A model that writes calls as XML; which calls depends on the user's message. */
function registerModels(s: Server) {
  s.registerChat(
    'caller',
    (request, out) => {
      const ask = String(request.messages.at(-1)!.content)
      const call = (args: object, name = 'get_weather') => `<tool_call>{"name":"${name}","arguments":${JSON.stringify(args)}}</tool_call>`
      if (ask === 'missing city') out.push(OutputChunk.textDelta(call({ units: {} })))
      else if (ask === 'city not a string') out.push(OutputChunk.textDelta(call({ city: 42 })))
      else if (ask === 'two calls') out.push(OutputChunk.textDelta(call({ city: 'Paris' }) + call({ city: 'Rome' })))
      else if (ask === 'evil city') out.push(OutputChunk.textDelta(call({ city: `${'a'.repeat(50_000)}b` })))
      else if (ask === 'unknown tool') out.push(OutputChunk.textDelta(call({ city: 'Oslo' }, 'no_such_tool') + call({ city: 'Oslo' })))
      else out.push(OutputChunk.textDelta(`dirty\u0000 text\u001b < /b>`))
      out.end()
    },
    { toolCalls: 'bridge' },
  )
  s.registerChat('strict-caller', (request, out) => {
    out.push(OutputChunk.toolCall({ callIndex: 0, id: 'c1', name: 'get_weather', arguments: '{"city":42}' }))
    // What a native engine says after writing a call: the gateway decides whether any call went out.
    out.push(OutputChunk.finish('tool_calls'))
    out.end()
  }, { toolValidation: 'strict' })
  // Code, one character a delta; `coder-bridged` has no tool calling of its own, so the bridge parses its text.
  const code = (request: unknown, out: { push(chunk: OutputChunk): boolean; end(): void }) => {
    for (const char of ALL_CODE) out.push(OutputChunk.textDelta(char))
    out.end()
  }
  s.registerChat('coder', code)
  s.registerChat('coder-bridged', code, { toolCalls: 'bridge' })
  // Slow: a word every 20 ms until it has written 50, or is cancelled.
  s.registerChat('slow', async (request, out) => {
    for (let i = 0; i < 50; i++) {
      if (out.signal.aborted) {
        aborted.push(String(request.messages.at(-1)!.content))
        return
      }
      out.push(OutputChunk.textDelta(` w${i}`))
      await Bun.sleep(20)
    }
    out.end()
  })
}

beforeAll(async () => {
  server = await startTestServer({ gateway: { toolValidation: 'relaxed' } }, registerModels)
})
afterAll(() => server.stop())

const chat = (base: string, body: Record<string, unknown>) =>
  fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

describe('tool call validation through the API', () => {
  const ask = (content: string, extra: Record<string, unknown> = {}) =>
    recordingClient(server.url).client.chat.completions.create({ model: 'caller', messages: [{ role: 'user', content }], tools: [WEATHER_TOOL.chat], ...extra } as never)

  test('the server’s mode (relaxed) drops a call without its required field; a request can ask for none', async () => {
    const dropped = await ask('missing city')
    expect(dropped.choices[0]!.message.tool_calls).toBeUndefined()
    expect(dropped.choices[0]!.finish_reason).toBe('stop')
    const kept = await ask('missing city', { tool_validation: 'none' })
    expect(kept.choices[0]!.message.tool_calls?.map((c) => (c.type === 'function' ? c.function.arguments : ''))).toEqual(['{"units":{}}'])
    // Relaxed does not check types; strict, asked for by this request, does.
    expect((await ask('city not a string')).choices[0]!.message.tool_calls).toHaveLength(1)
    expect((await ask('city not a string', { tool_validation: 'strict' })).choices[0]!.message.tool_calls).toBeUndefined()
    const bad = await ask('x', { tool_validation: 'paranoid' }).catch((error) => error)
    expect([bad.status, bad.error?.param]).toEqual([400, 'tool_validation'])
  })

  test('a model’s own mode wins over the server’s, for native calls too', async () => {
    const answer = await recordingClient(server.url).client.chat.completions.create({ model: 'strict-caller', messages: [{ role: 'user', content: 'x' }], tools: [WEATHER_TOOL.chat] })
    expect(answer.choices[0]!.message.tool_calls).toBeUndefined()
    // No call went out, so the answer did not end for one.
    expect(answer.choices[0]!.finish_reason).toBe('stop')
  })

  test('with the text fallback an invalid call reaches the client as text; parallel_tool_calls false keeps one call', async () => {
    const texty = await startTestServer({ gateway: { toolValidation: 'relaxed', invalidToolCalls: 'text' } }, registerModels)
    try {
      const answer = await recordingClient(texty.url).client.chat.completions.create({ model: 'caller', messages: [{ role: 'user', content: 'missing city' }], tools: [WEATHER_TOOL.chat] })
      expect(answer.choices[0]!.message.content).toBe('<tool_call>{"name":"get_weather","arguments":{"units":{}}}</tool_call>')
    } finally {
      await texty.stop()
    }
    expect((await ask('two calls')).choices[0]!.message.tool_calls).toHaveLength(2)
    expect((await ask('two calls', { parallel_tool_calls: false })).choices[0]!.message.tool_calls).toHaveLength(1)
  })

  test('tool_choice holds whatever the model writes: none keeps no call, a named function only its own', async () => {
    expect((await ask('two calls', { tool_choice: 'none' })).choices[0]!.message.tool_calls).toBeUndefined()
    const other = { type: 'function', function: { name: 'other_tool', parameters: { type: 'object' } } }
    const named = await ask('two calls', { tools: [WEATHER_TOOL.chat, other], tool_choice: { type: 'function', function: { name: 'other_tool' } } })
    expect(named.choices[0]!.message.tool_calls).toBeUndefined()
    const own = await ask('two calls', { tool_choice: { type: 'function', function: { name: 'get_weather' } } })
    expect(own.choices[0]!.message.tool_calls).toHaveLength(2)
  })

  test('the sanitizer drops control characters and leaves markup as the model wrote it', async () => {
    const answer = await recordingClient(server.url).client.chat.completions.create({ model: 'caller', messages: [{ role: 'user', content: 'x' }] })
    expect(answer.choices[0]!.message.content).toBe('dirty text < /b>')
  })
})

describe('tools a request cannot have are 400s', () => {
  const post = (body: Record<string, unknown>) => chat(server.url, { model: 'caller', messages: [{ role: 'user', content: 'x' }], ...body })
  const withParameters = (parameters: unknown) => ({ tools: [{ type: 'function', function: { name: 'f', parameters } }] })

  test('parameters that are no JSON Schema, a tool_choice naming no tool, required without tools, schemas past the caps', async () => {
    for (const [body, param] of [
      [withParameters({ type: 'nonsense' }), 'tools[0].function.parameters'],
      [withParameters({ type: 'object', properties: { a: { $ref: '#/$defs/missing' } } }), 'tools[0].function.parameters'],
      [withParameters({ type: 'string', pattern: 'a'.repeat(1001) }), 'tools[0].function.parameters'],
      [withParameters({ type: 'object', description: 'x'.repeat(70_000) }), 'tools[0].function.parameters'],
      [{ ...withParameters({ type: 'object' }), tool_choice: { type: 'function', function: { name: 'g' } } }, 'tool_choice'],
      [{ tool_choice: 'required' }, 'tool_choice'],
      [{ tool_choice: { type: 'function', function: { name: 'f' } } }, 'tool_choice'],
    ] as const) {
      const response = await post(body)
      const error = ((await response.json()) as { error: { param: string; type: string } }).error
      expect([response.status, error.param]).toEqual([400, param])
    }
  })

  test('a catastrophic pattern in strict validation does not stall the event loop: a timer keeps firing', async () => {
    let ticks = 0
    const timer = setInterval(() => ticks++, 5)
    try {
      const started = performance.now()
      const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string', pattern: '^(a+)+$' } }, required: ['city'] } } }]
      const answer = await recordingClient(server.url).client.chat.completions.create({ model: 'caller', messages: [{ role: 'user', content: 'evil city' }], tools, tool_validation: 'strict' } as never)
      // The city does not match: the call is dropped, after a linear-time check.
      expect(answer.choices[0]!.message.tool_calls).toBeUndefined()
      expect(performance.now() - started).toBeLessThan(1000)
      await Bun.sleep(20)
      expect(ticks).toBeGreaterThan(0)
    } finally {
      clearInterval(timer)
    }
  })

  test('by default (relaxed) a call to a tool that is not in tools never reaches the client', async () => {
    const plain = await startTestServer({}, registerModels)
    try {
      const answer = await recordingClient(plain.url).client.chat.completions.create({ model: 'caller', messages: [{ role: 'user', content: 'unknown tool' }], tools: [WEATHER_TOOL.chat] })
      expect(answer.choices[0]!.message.tool_calls?.map((c) => (c.type === 'function' ? c.function.name : ''))).toEqual(['get_weather'])
    } finally {
      await plain.stop()
    }
  })
})

describe('code through the API is byte-identical', () => {
  for (const model of ['coder', 'coder-bridged']) {
    test(`${model}: chat JSON and SSE, and the Responses API, JSON and events`, async () => {
      const { client } = recordingClient(server.url)
      const body = { model, messages: [{ role: 'user' as const, content: 'code' }], ...(model === 'coder-bridged' ? { tools: [WEATHER_TOOL.chat] } : {}) }
      expect((await client.chat.completions.create(body)).choices[0]!.message.content).toBe(ALL_CODE)
      let streamed = ''
      for await (const chunk of await client.chat.completions.create({ ...body, stream: true })) streamed += chunk.choices[0]?.delta.content ?? ''
      expect(streamed).toBe(ALL_CODE)
      const tools = model === 'coder-bridged' ? { tools: [WEATHER_TOOL.responses] } : {}
      expect((await client.responses.create({ model, input: 'code', store: false, ...tools })).output_text).toBe(ALL_CODE)
      let events = ''
      let done = ''
      for await (const event of await client.responses.create({ model, input: 'code', store: false, stream: true, ...tools })) {
        if (event.type === 'response.output_text.delta') events += event.delta
        if (event.type === 'response.output_text.done') done = event.text
      }
      expect([events, done]).toEqual([ALL_CODE, ALL_CODE])
    })
  }
})

describe('the session execution gate', () => {
  const conversation = (question: string) => ({ model: 'slow', stream: true, messages: [{ role: 'system', content: 'be slow' }, { role: 'user', content: question }] })

  test('reject: a second request of a running session gets 409; other sessions and later requests run', async () => {
    const gated = await startTestServer({ gateway: { sessionConcurrency: 'reject' } }, registerModels)
    try {
      const first = await chat(gated.url, conversation('same'))
      const reader = first.body!.getReader()
      await reader.read()
      const second = await chat(gated.url, conversation('same'))
      expect(second.status).toBe(409)
      const body = (await second.json()) as { error: { type: string; code: string } }
      expect(body.error.code).toBe('session_busy')
      expect((await chat(gated.url, conversation('another conversation'))).status).toBe(200)
      while (!(await reader.read()).done);
      expect((await chat(gated.url, { ...conversation('same'), stream: false })).status).toBe(200)
    } finally {
      await gated.stop()
    }
  })

  test('cancel_previous: the newer request runs, the older one is cancelled and its stream ends with an error', async () => {
    const gated = await startTestServer({ gateway: { sessionConcurrency: 'cancel_previous' } }, registerModels)
    try {
      const first = await chat(gated.url, conversation('take over'))
      // The stream's first frame: the older request is running.
      const reader = first.body!.getReader()
      const decoder = new TextDecoder()
      let text = decoder.decode((await reader.read()).value, { stream: true })
      expect(sseFrames(text).length).toBeGreaterThan(0)
      const second = await chat(gated.url, { ...conversation('take over'), stream: false })
      expect(second.status).toBe(200)
      for (let part = await reader.read(); !part.done; part = await reader.read()) text += decoder.decode(part.value, { stream: true })
      const frames = sseFrames(text) as Array<{ error?: { code: string } }>
      expect(frames.at(-1)?.error?.code).toBe('request_cancelled')
      expect(aborted).toContain('take over')
    } finally {
      await gated.stop()
    }
  })

  test('cancel_previous reaches a request still waiting for a slot: it gets 499 and its handler never runs', async () => {
    let open = () => {}
    const occupied = new Promise<void>((resolve) => (open = resolve))
    const runs: string[] = []
    const gated = await startTestServer({ maxConcurrency: 1, gateway: { sessionConcurrency: 'cancel_previous' } }, (s) => {
      s.registerChat('queued', async (request, out) => {
        const last = String(request.messages.at(-1)!.content)
        runs.push(last)
        if (last === 'occupy') await occupied
        out.push(OutputChunk.textDelta(`ran ${last}`))
        out.end()
      })
    })
    const turn = (last: string) => ({ model: 'queued', messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'the same first message' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: last }] })
    try {
      // Another session holds the only slot.
      const holder = chat(gated.url, { model: 'queued', messages: [{ role: 'user', content: 'occupy' }] })
      await waitFor(() => runs.includes('occupy'), 'the slot to be taken')
      const older = chat(gated.url, turn('older'))
      await waitFor(() => gated.dispatcher.limiter.queued === 1, 'the older request to queue')
      const newer = chat(gated.url, turn('newer'))
      const cancelled = await older
      expect(cancelled.status).toBe(499)
      expect(((await cancelled.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'request_cancelled', message: 'Cancelled by a newer request of the same session' })
      open()
      expect((await holder).status).toBe(200)
      const answer = (await (await newer).json()) as { choices: Array<{ message: { content: string } }> }
      expect(answer.choices[0]!.message.content).toBe('ran newer')
      expect(runs).toEqual(['occupy', 'newer'])
    } finally {
      open()
      await gated.stop()
    }
  })

  test('hash sessions of two API keys with the same conversation do not collide', async () => {
    const gated = await startTestServer({ apiKey: ['key-one', 'key-two'], gateway: { sessionConcurrency: 'reject' } }, registerModels)
    const as = (key: string, body: Record<string, unknown>) =>
      fetch(`${gated.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) })
    try {
      const first = await as('key-one', conversation('shared words'))
      expect(first.status).toBe(200)
      const reader = first.body!.getReader()
      await reader.read()
      // The same conversation under another key is another session; under the same key it is busy.
      const other = await as('key-two', { ...conversation('shared words'), max_tokens: 1 })
      expect(other.status).toBe(200)
      await other.body!.cancel()
      expect((await as('key-one', conversation('shared words'))).status).toBe(409)
      await reader.cancel()
    } finally {
      await gated.stop()
    }
  })

  test('zero-width tracking: the answer carries an invisible session id; the next turn is the same session', async () => {
    const gated = await startTestServer({ gateway: { sessionConcurrency: 'reject', sessionTracking: 'zero_width' } }, (s) => {
      registerModels(s)
      s.registerChat('echo', (request, out) => {
        out.push(OutputChunk.textDelta(`seen ${request.messages.length}: ${JSON.stringify(request.messages.map((m) => m.content))}`))
        out.end()
      })
    })
    try {
      const client = recordingClient(gated.url).client
      const first = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] })
      const answer = first.choices[0]!.message.content!
      expect(answer).toStartWith('seen 1: ["hi"]')
      expect(answer).toMatch(/\u2060[\u200B\u200C]+\u2060$/)
      const history = [{ role: 'user', content: 'hi' }, { role: 'assistant', content: answer }]
      // The model never sees the marker.
      const second = await client.chat.completions.create({ model: 'echo', messages: [...history, { role: 'user', content: 'again' }] as never })
      expect(second.choices[0]!.message.content).toStartWith(`seen 3: ${JSON.stringify(['hi', 'seen 1: ["hi"]', 'again'])}`)
      // The same marker keeps the same session: a slow turn holds it, a concurrent one is refused.
      const slow = await chat(gated.url, { model: 'slow', stream: true, messages: [...history, { role: 'user', content: 'slow turn' }] })
      const reader = slow.body!.getReader()
      await reader.read()
      expect((await chat(gated.url, { model: 'slow', messages: [...history, { role: 'user', content: 'meanwhile' }] })).status).toBe(409)
      expect((await chat(gated.url, { model: 'slow', max_tokens: 1, messages: [{ role: 'user', content: 'a new conversation' }] })).status).toBe(200)
      await reader.cancel()
    } finally {
      await gated.stop()
    }
  })
})
