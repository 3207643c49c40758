import { OutputChunk, ProviderError, type ChatRequest } from '@cy/core'
import { Server, ResponseStore } from '@cy/http'
import { Database } from 'bun:sqlite'
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
    // OpenAI answers an unknown previous response with 400 naming the parameter.
    expect([missing.status, missing.error?.param, missing.error?.code]).toEqual([400, 'previous_response_id', 'previous_response_not_found'])
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
    const bogus = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'scripted', input: [{ type: 'bogus' }] }) })
    expect(((await bogus.json()) as { error: { param: string; message: string } }).error).toMatchObject({
      param: 'input[0].type',
      message: 'Invalid value for \'input[0].type\': expected one of "message", "function_call", "function_call_output", got "bogus".',
    })
  })
})

describe('Responses fields with nothing behind them', () => {
  const create = (fields: Record<string, unknown>) =>
    fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'scripted', input: 'hi', ...fields }) })

  test.each([
    [{ background: true }, 'background'],
    [{ reasoning: { effort: 'high' } }, 'reasoning'],
    [{ include: ['message.output_text.logprobs'] }, 'include'],
    [{ truncation: 'auto' }, 'truncation'],
    [{ max_tool_calls: 3 }, 'max_tool_calls'],
    [{ service_tier: 'priority' }, 'service_tier'],
    [{ top_logprobs: 2 }, 'top_logprobs'],
    [{ conversation: 'conv_1' }, 'conversation'],
    [{ prompt: { id: 'pmpt_1' } }, 'prompt'],
  ])('%j is a 400 unsupported_parameter naming it, never silently ignored', async (fields, param) => {
    const response = await create(fields)
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { param: string; code: string } }
    assertMatchesSchema('ErrorResponse', body)
    expect(body.error).toMatchObject({ param, code: 'unsupported_parameter' })
  })

  test('the values that ask for nothing, and hints with no effect on the answer, are accepted and not passed on', async () => {
    seen = []
    const response = await create({ background: false, truncation: 'disabled', service_tier: 'auto', include: [], user: 'u1', safety_identifier: 's', prompt_cache_key: 'k' })
    expect(response.status).toBe(200)
    const request = seen.at(-1) as unknown as Record<string, unknown>
    for (const field of ['background', 'truncation', 'service_tier', 'include']) expect(request[field]).toBeUndefined()
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

describe('stored responses: ids, owners, retention, storage', () => {
  const RESOURCE_ID = /^(resp|msg|fc)_[0-9a-f]{32}$/

  test('every id a client can name is 128 random bits: responses and their items', async () => {
    const { client } = recordingClient(server.url)
    const first = await client.responses.create({ model: 'scripted', input: 'ids please' })
    const second = await client.responses.create({ model: 'scripted', input: 'ids please' })
    const items = []
    for await (const item of client.responses.inputItems.list(first.id)) items.push(item)
    for (const id of [first.id, second.id, ...first.output.map((item) => item.id!), ...items.map((item) => item.id)]) expect(id).toMatch(RESOURCE_ID)
    // No shared prefix or counter: nothing about one id tells another.
    expect(first.id.slice(0, 13)).not.toBe(second.id.slice(0, 13))
  })

  test('a stored response belongs to the key that created it: another key gets 404 (400 for previous_response_id)', async () => {
    const keyed = new Server({ port: 0, hostname: '127.0.0.1', apiKey: ['key-one', 'key-two'] })
    setup(keyed)
    await keyed.start()
    try {
      const one = recordingClient(keyed.url, 'key-one').client
      const two = recordingClient(keyed.url, 'key-two').client
      const mine = await one.responses.create({ model: 'scripted', input: 'private' })
      expect((await one.responses.retrieve(mine.id)).id).toBe(mine.id)
      expect((await two.responses.retrieve(mine.id).catch((error) => error)).status).toBe(404)
      expect((await two.responses.inputItems.list(mine.id).catch((error) => error)).status).toBe(404)
      expect((await two.responses.delete(mine.id).catch((error) => error)).status).toBe(404)
      const hijack = await two.responses.create({ model: 'scripted', input: 'continue', previous_response_id: mine.id }).catch((error) => error)
      expect([hijack.status, hijack.error?.param]).toEqual([400, 'previous_response_id'])
      // Still there for its owner, who can continue it.
      expect((await one.responses.create({ model: 'scripted', input: 'next', previous_response_id: mine.id })).output_text).toBe('turn 2: next')
    } finally {
      await keyed.stop()
    }
  })

  test('input_items after an id that is not among the items is a 400 naming `after`', async () => {
    const { client } = recordingClient(server.url)
    const response = await client.responses.create({ model: 'scripted', input: 'page me' })
    const error = await client.responses.inputItems.list(response.id, { after: 'msg_nope' }).catch((e) => e)
    expect([error.status, error.error?.param]).toEqual([400, 'after'])
    for (const limit of ['0', '101', 'ten']) {
      const page = await fetch(`${server.url}/v1/responses/${response.id}/input_items?limit=${limit}`)
      expect([page.status, ((await page.json()) as { error: { param: string } }).error.param]).toEqual([400, 'limit'])
    }
    expect((await fetch(`${server.url}/v1/responses/${response.id}/input_items?limit=1`)).status).toBe(200)
  })

  test('each row holds its own turn and a link to its parent: three turns do not copy the first', async () => {
    const path = join(dir, 'rows.sqlite')
    const store = new ResponseStore(path)
    const turn = (id: string, parentId: string | null, text: string) =>
      store.save({
        owner: 'o',
        parentId,
        response: { id, created_at: 1, output: [{ id: `${id}-out`, type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `answer ${text}` }] }] },
        inputItems: [{ id: `${id}-in`, type: 'message', role: 'user', content: [{ type: 'input_text', text }] }],
      })
    turn('r1', null, 'FIRST-TURN-TEXT')
    turn('r2', 'r1', 'second')
    turn('r3', 'r2', 'third')
    expect(store.conversation('r3', 'o')!.map((item) => item.id)).toEqual(['r1-in', 'r1-out', 'r2-in', 'r2-out', 'r3-in', 'r3-out'])
    expect(store.conversation('r3', 'someone else')).toBeUndefined()
    store.close()
    const db = new Database(path, { readonly: true })
    const rows = db.query<{ id: string; parent_id: string | null; input_items: string; response: string }, []>('SELECT id, parent_id, input_items, response FROM responses ORDER BY id').all()
    db.close()
    expect(rows.map((row) => [row.id, row.parent_id])).toEqual([['r1', null], ['r2', 'r1'], ['r3', 'r2']])
    expect(rows.filter((row) => (row.input_items + row.response).includes('FIRST-TURN-TEXT')).map((row) => row.id)).toEqual(['r1'])
  })

  test('rows expire after the retention period; a new turn keeps its conversation alive', () => {
    let now = Date.UTC(2025, 0, 1)
    const day = 86_400_000
    const store = new ResponseStore(':memory:', { retentionDays: 30, now: () => now })
    const save = (id: string, parentId: string | null) => store.save({ owner: '', parentId, response: { id, created_at: now / 1000, output: [] }, inputItems: [] })
    save('old', null)
    save('lonely', null)
    now += 20 * day
    save('child', 'old')
    now += 15 * day
    // 35 days after it was made, 15 after its child: the conversation lives on, the lonely row is gone.
    expect(store.get('lonely', '')).toBeUndefined()
    expect(store.get('old', '')).toBeDefined()
    expect(store.conversation('child', '')).toEqual([])
    now += 16 * day
    expect(store.get('child', '')).toBeUndefined()
    expect(store.get('old', '')).toBeUndefined()
    expect(() => new ResponseStore(':memory:', { retentionDays: 0 })).toThrow(RangeError)
    store.close()
  })

  test('a database of the old schema is migrated: its rows keep their conversation, owned by the keyless owner', () => {
    const path = join(dir, 'old-schema.sqlite')
    const old = new Database(path, { create: true })
    old.exec('CREATE TABLE responses (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, response TEXT NOT NULL, input_items TEXT NOT NULL, conversation TEXT NOT NULL)')
    const insert = old.prepare('INSERT INTO responses VALUES (?, ?, ?, ?, ?)')
    const created = Math.floor(Date.now() / 1000)
    const item = (id: string, text: string) => ({ id, type: 'message', role: 'user', content: [{ type: 'input_text', text }] })
    insert.run('resp_a', created, JSON.stringify({ id: 'resp_a', created_at: created, previous_response_id: null, output: [item('out_a', 'A said')] }), JSON.stringify([item('in_a', 'a')]), '[]')
    insert.run('resp_b', created, JSON.stringify({ id: 'resp_b', created_at: created, previous_response_id: 'resp_a', output: [item('out_b', 'B said')] }), JSON.stringify([item('in_b', 'b')]), '[]')
    old.close()
    const store = new ResponseStore(path)
    expect(store.get('resp_b', '')!.response.id).toBe('resp_b')
    expect(store.conversation('resp_b', '')!.map((entry) => entry.id)).toEqual(['in_a', 'out_a', 'in_b', 'out_b'])
    expect(store.get('resp_b', 'a key owner')).toBeUndefined()
    store.close()
    // Opening it again is a no-op.
    const again = new ResponseStore(path)
    expect(again.get('resp_a', '')).toBeDefined()
    again.close()
  })
})
