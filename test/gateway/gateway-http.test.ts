import { OutputChunk } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { WEATHER_TOOL } from '../support/scripted-models.ts'
import { startTestServer } from '../support/test-server.ts'

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
      else out.push(OutputChunk.textDelta(`dirty\u0000 text\u001b < /b>`))
      out.end()
    },
    { toolCalls: 'bridge' },
  )
  s.registerChat('strict-caller', (request, out) => {
    out.push(OutputChunk.toolCall({ callIndex: 0, id: 'c1', name: 'get_weather', arguments: '{"city":42}' }))
    out.end()
  }, { toolValidation: 'strict' })
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
    const named = await ask('two calls', { tool_choice: { type: 'function', function: { name: 'other_tool' } } })
    expect(named.choices[0]!.message.tool_calls).toBeUndefined()
    const own = await ask('two calls', { tool_choice: { type: 'function', function: { name: 'get_weather' } } })
    expect(own.choices[0]!.message.tool_calls).toHaveLength(2)
  })

  test('the sanitizer cleans what the model writes before the client sees it', async () => {
    const answer = await recordingClient(server.url).client.chat.completions.create({ model: 'caller', messages: [{ role: 'user', content: 'x' }] })
    expect(answer.choices[0]!.message.content).toBe('dirty text </b>')
  })
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
      const text = first.text()
      await Bun.sleep(30)
      const second = await chat(gated.url, { ...conversation('take over'), stream: false })
      expect(second.status).toBe(200)
      const frames = sseFrames(await text) as Array<{ error?: { code: string } }>
      expect(frames.at(-1)?.error?.code).toBe('request_cancelled')
      expect(aborted).toContain('take over')
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
