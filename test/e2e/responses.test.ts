import { OutputChunk, ProviderError, type ChatRequest } from '@cy/core'
import { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertMatchesEvent, assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { registerScriptedModels, WEATHER_TOOL } from '../support/scripted-models.ts'

let server: Server
let dir: string
let seen: ChatRequest[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-responses-'))
  server = new Server({ port: 0, hostname: '127.0.0.1', responsesDb: join(dir, 'responses.sqlite') })
  setup(server)
  await server.start()
})

function setup(target: Server): void {
  registerScriptedModels(target, (request) => seen.push(request))
  target.registerChat('breaks', async (_request, out) => {
    out.push(OutputChunk.textDelta('half an ans'))
    await Bun.sleep(5)
    out.fail(new ProviderError('The engine fell over'))
  })
}
afterAll(async () => {
  await server.stop()
  await rm(dir, { recursive: true, force: true })
})

const eventFrames = (text: string) => sseFrames(text) as Array<{ type: string; sequence_number: number } & Record<string, unknown>>

describe('POST /v1/responses', () => {
  test('a string input gives a completed response with its output text, stored for GET', async () => {
    const { client, last } = recordingClient(server.url)
    const response = await client.responses.create({ model: 'scripted', input: 'hello there', instructions: 'Be brief.' })
    expect(response.status).toBe('completed')
    expect(response.output_text).toBe('turn 1: hello there')
    expect(response.id).toStartWith('resp_')
    expect(response.usage).toMatchObject({ input_tokens: 3, output_tokens: 4, total_tokens: 7 })
    assertMatchesSchema('Response', JSON.parse((await last()).text))
    expect(seen.at(-1)!.messages[0]).toEqual({ role: 'system', content: 'Be brief.' })
    const again = await client.responses.retrieve(response.id)
    expect(again).toEqual(response)
    assertMatchesSchema('Response', JSON.parse((await last()).text))
  })

  test('streaming gives OpenAI’s event sequence in order, numbered, each valid', async () => {
    const { client, last } = recordingClient(server.url)
    const stream = client.responses.stream({ model: 'scripted', input: 'stream me' })
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    const final = await stream.finalResponse()
    expect(final.output_text).toBe('turn 1: stream me')
    const deltas = types.filter((type) => type === 'response.output_text.delta').length
    expect(deltas).toBeGreaterThan(1)
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array(deltas).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ])
    const frames = eventFrames((await last()).text)
    expect(frames.map((frame) => frame.sequence_number)).toEqual(frames.map((_, i) => i))
    for (const frame of frames) assertMatchesEvent('ResponseStreamEvent', frame)
    // The stored response is the completed one the stream ended with.
    const stored = await client.responses.retrieve(final.id)
    const summary = (r: { status?: unknown; output_text: string; usage?: unknown; output: Array<{ id?: string }> }) => [r.status, r.output_text, r.usage, r.output.map((item) => item.id)]
    expect(summary(stored)).toEqual(summary(final))
  })

  test('input_items lists what the response was given; delete removes it', async () => {
    const { client, last } = recordingClient(server.url)
    const response = await client.responses.create({
      model: 'scripted',
      input: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'an answer' },
        { role: 'user', content: [{ type: 'input_text', text: 'second' }] },
      ],
    })
    const items = []
    for await (const item of client.responses.inputItems.list(response.id, { order: 'asc' })) items.push(item)
    expect(items.map((item) => (item.type === 'message' ? [item.role, item.content.map((part) => ('text' in part ? part.text : ''))] : item.type))).toEqual([
      ['user', ['first']],
      ['assistant', ['an answer']],
      ['user', ['second']],
    ])
    const page = await client.responses.inputItems.list(response.id, { limit: 2 })
    assertMatchesSchema('ResponseItemList', JSON.parse((await last()).text))
    expect(page.data.map((item) => item.id)).toEqual([items[2]!.id, items[1]!.id])
    expect(page.has_more).toBe(true)

    await client.responses.delete(response.id)
    const gone = await client.responses.retrieve(response.id).catch((error) => error)
    expect(gone.status).toBe(404)
    assertMatchesSchema('ErrorResponse', JSON.parse((await last()).text))
  })

  test('previous_response_id carries the conversation; store: false keeps nothing', async () => {
    const { client } = recordingClient(server.url)
    const first = await client.responses.create({ model: 'scripted', input: 'my name is Ada', instructions: 'only for turn one' })
    const second = await client.responses.create({ model: 'scripted', input: 'what is my name?', previous_response_id: first.id })
    expect(second.output_text).toBe('turn 2: what is my name?')
    expect(second.previous_response_id).toBe(first.id)
    // The model saw the whole conversation, without the first turn's instructions (as OpenAI does).
    expect(seen.at(-1)!.messages).toEqual([
      { role: 'user', content: 'my name is Ada' },
      { role: 'assistant', content: 'turn 1: my name is Ada' },
      { role: 'user', content: 'what is my name?' },
    ])
    const unstored = await client.responses.create({ model: 'scripted', input: 'forget me', store: false })
    expect((await client.responses.retrieve(unstored.id).catch((error) => error)).status).toBe(404)
    const missing = await client.responses.create({ model: 'scripted', input: 'x', previous_response_id: 'resp_nope' }).catch((error) => error)
    expect([missing.status, missing.error?.param]).toEqual([404, 'previous_response_id'])
  })

  test('a restarted server still has its stored responses, and continues them', async () => {
    const { client } = recordingClient(server.url)
    const before = await client.responses.create({ model: 'scripted', input: 'remember this' })
    await server.stop()
    const restarted = new Server({ port: 0, hostname: '127.0.0.1', responsesDb: join(dir, 'responses.sqlite') })
    setup(restarted)
    await restarted.start()
    try {
      const after = recordingClient(restarted.url).client
      expect(await after.responses.retrieve(before.id)).toEqual(before)
      const next = await after.responses.create({ model: 'scripted', input: 'and now?', previous_response_id: before.id })
      expect(next.output_text).toBe('turn 2: and now?')
    } finally {
      await restarted.stop()
      server = new Server({ port: 0, hostname: '127.0.0.1', responsesDb: join(dir, 'responses.sqlite') })
      setup(server)
      await server.start()
    }
  })

  test('a model that fails mid-stream: an error event, then response.failed; the stored response says failed', async () => {
    const response = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'breaks', input: 'x', stream: true }) })
    const frames = eventFrames(await response.text())
    for (const frame of frames) assertMatchesEvent('ResponseStreamEvent', frame)
    expect(frames.slice(-2).map((frame) => frame.type)).toEqual(['error', 'response.failed'])
    expect(frames.at(-2)).toMatchObject({ code: 'provider_error', message: 'The engine fell over' })
    const failed = frames.at(-1)!.response as { id: string; status: string; error: { code: string } }
    expect([failed.status, failed.error.code]).toEqual(['failed', 'server_error'])
    const stored = await recordingClient(server.url).client.responses.retrieve(failed.id)
    expect(stored.status).toBe('failed')
    expect(stored.output.map((item) => item.type === 'message' && item.content.map((part) => (part.type === 'output_text' ? part.text : '')))).toEqual([['half an ans']])
  })

  test('bad input is a clear 400 naming the param', async () => {
    const response = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'scripted', input: [{ role: 'robot', content: 'x' }] }) })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { param: string } }
    expect(body.error.param).toStartWith('input')
    const empty = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'scripted' }) })
    expect([empty.status, ((await empty.json()) as { error: { param: string } }).error.param]).toEqual([400, 'input'])
  })
})

describe('a tool round trip', () => {
  for (const model of ['bridged', 'native']) {
    for (const stream of [false, true]) {
      test(`Responses API, ${model} tools, ${stream ? 'streaming' : 'JSON'}`, async () => {
        const { client, last } = recordingClient(server.url)
        const ask = { model, input: 'weather in Paris?', tools: [WEATHER_TOOL.responses] }
        const first = stream ? await client.responses.stream(ask).finalResponse() : await client.responses.create(ask)
        const text = (await last()).text
        if (stream) for (const frame of eventFrames(text)) assertMatchesEvent('ResponseStreamEvent', frame)
        else assertMatchesSchema('Response', JSON.parse(text))
        const calls = first.output.filter((item) => item.type === 'function_call') as Array<{ name: string; arguments: string; call_id: string }>
        expect(calls.map((call) => [call.name, JSON.parse(call.arguments)])).toEqual([['get_weather', { city: 'Paris', units: { temperature: 'celsius' } }]])
        // Text around the call markup stays text; the markup itself never shows.
        expect(first.output_text).not.toContain('<tool_call>')

        const answer = await (stream ? (request: object) => client.responses.stream(request as never).finalResponse() : (request: object) => client.responses.create(request as never))({
          model,
          previous_response_id: first.id,
          tools: [WEATHER_TOOL.responses],
          input: [{ type: 'function_call_output', call_id: calls[0]!.call_id, output: '{"sky":"sunny","celsius":21}' }],
        })
        expect(answer.output_text).toBe('Paris: {"sky":"sunny","celsius":21}')
      })

      test(`Chat Completions, ${model} tools, ${stream ? 'streaming' : 'JSON'}`, async () => {
        const { client, last } = recordingClient(server.url)
        const messages: Array<Record<string, unknown>> = [{ role: 'user', content: 'weather in Paris?' }]
        const ask = { model, messages: messages as never, tools: [WEATHER_TOOL.chat] }
        const first = stream ? await client.chat.completions.stream(ask).finalChatCompletion() : await client.chat.completions.create(ask)
        const text = (await last()).text
        if (stream) for (const frame of sseFrames(text)) assertMatchesSchema('CreateChatCompletionStreamResponse', frame)
        else assertMatchesSchema('CreateChatCompletionResponse', JSON.parse(text))
        const message = first.choices[0]!.message
        expect(first.choices[0]!.finish_reason).toBe('tool_calls')
        const call = message.tool_calls![0]!
        expect(call.type === 'function' && [call.function.name, JSON.parse(call.function.arguments)]).toEqual(['get_weather', { city: 'Paris', units: { temperature: 'celsius' } }])
        messages.push(message as never, { role: 'tool', tool_call_id: call.id, content: '{"sky":"sunny","celsius":21}' })
        const answer = await client.chat.completions.create({ model, messages: messages as never, tools: [WEATHER_TOOL.chat] })
        expect(answer.choices[0]!.message.content).toBe('Paris: {"sky":"sunny","celsius":21}')
      })
    }
  }
})
