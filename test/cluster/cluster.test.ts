import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI, { toFile } from 'openai'
import { clusterPort } from '../support/cluster-port.ts'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { WEATHER_TOOL } from '../support/scripted-models.ts'
import { spawnNode, waitFor, waitForModels, type Node } from './nodes.ts'

const SECRET = 'cluster-test-secret'

let port: number
let url: string
const nodes: Node[] = []
let client: OpenAI

beforeAll(async () => {
  port = clusterPort()
  const master = await spawnNode(['master', String(port), SECRET])
  nodes.push(master.node)
  expect(master.line).toStartWith('master ready')
  url = `http://127.0.0.1:${port}`
  // One worker joins through the internal port, the other through the API port.
  const alpha = await spawnNode(['worker', String(port + 1000), SECRET, 'alpha', 'alpha-chat,alpha-embed,alpha-asr,alpha-tts,alpha-image,alpha-bridged'])
  const beta = await spawnNode(['worker', String(port), SECRET, 'beta', 'beta-chat'])
  nodes.push(alpha.node, beta.node)
  expect(alpha.line).toStartWith('worker ready alpha http://127.0.0.1:')
  expect(beta.line).toStartWith('worker ready beta http://127.0.0.1:')
  client = recordingClient(url).client
}, 60_000)
afterAll(async () => {
  for (const node of nodes) node.process.kill('SIGTERM')
  await Promise.all(nodes.map((node) => node.process.exited))
})

describe('cluster mode, real processes on loopback', () => {
  test('/v1/models on the master lists its own models and every worker’s, owned by the worker', async () => {
    await waitForModels(url, (ids) => ids.length >= 8)
    const listed = []
    for await (const model of client.models.list()) listed.push([model.id, model.owned_by])
    expect(listed).toEqual(
      expect.arrayContaining([
        ['master-chat', 'cy'],
        ['alpha-chat', 'alpha'],
        ['alpha-embed', 'alpha'],
        ['alpha-asr', 'alpha'],
        ['alpha-tts', 'alpha'],
        ['alpha-image', 'alpha'],
        ['beta-chat', 'beta'],
      ]),
    )
  })

  test('chat is forwarded, JSON and SSE alike, and reads exactly like a local answer', async () => {
    const { client: recording, last } = recordingClient(url)
    for (const model of ['alpha-chat', 'beta-chat', 'master-chat']) {
      const whole = await recording.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })
      expect(whole.choices[0]!.message.content).toBe(`${model}: hello from the cluster`)
      expect(whole.usage?.completion_tokens).toBe(5)
      assertMatchesSchema('CreateChatCompletionResponse', JSON.parse((await last()).text))
      const stream = await recording.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] })
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
      expect(text).toBe(whole.choices[0]!.message.content!)
      for (const frame of sseFrames((await last()).text)) assertMatchesSchema('CreateChatCompletionStreamResponse', frame)
    }
  })

  test('embeddings, multipart transcriptions, binary speech and images are forwarded', async () => {
    const embedding = await client.embeddings.create({ model: 'alpha-embed', input: ['abc', 'de'], encoding_format: 'float' })
    // Float32 vectors cross the process boundary bit for bit.
    expect(embedding.data.map((d) => d.embedding)).toEqual([
      [3, 1, 0.5],
      [2, 1, 0.5],
    ])
    const transcript = await client.audio.transcriptions.create({ model: 'alpha-asr', file: await toFile(new Uint8Array(1234), 'clip.wav') })
    expect(transcript.text).toBe(' 1234 bytes from clip.wav')
    const speech = await client.audio.speech.create({ model: 'alpha-tts', voice: 'alloy', input: 'hello', response_format: 'pcm' })
    expect(Array.from(new Int16Array(await speech.arrayBuffer()))).toEqual([1, -1, 2, -2, 5])
    const image = await client.images.generate({ model: 'alpha-image', prompt: 'x', response_format: 'b64_json' })
    expect(Array.from(Buffer.from(image.data![0]!.b64_json!, 'base64'))).toEqual([0x89, 0x50, 0x4e, 0x47, 9, 9])
    // An edit's upload reaches the worker's model byte for byte; a preview streams back through the master.
    const upload = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 255, 7)
    const edited = await client.images.edit({ model: 'alpha-image', prompt: 'x', image: await toFile(upload, 'in.png', { type: 'image/png' }) })
    expect(Array.from(Buffer.from(edited.data![0]!.b64_json!, 'base64'))).toEqual(Array.from(upload))
    const events: string[] = []
    for await (const event of await client.images.generate({ model: 'alpha-image', prompt: 'x', stream: true, partial_images: 1 })) events.push(`${event.type}:${Buffer.from(event.b64_json, 'base64').at(-1)}`)
    expect(events).toEqual(['image_generation.partial_image:1', 'image_generation.completed:9'])
  })

  test('a worker model without tool calling gets tools through the master’s text bridge', async () => {
    const answer = await client.chat.completions.create({ model: 'alpha-bridged', messages: [{ role: 'user', content: 'weather?' }], tools: [WEATHER_TOOL.chat] })
    const call = answer.choices[0]!.message.tool_calls?.[0]
    expect(call?.type === 'function' && [call.function.name, call.function.arguments]).toEqual(['get_weather', '{"city":"Oslo"}'])
    expect(answer.choices[0]!.finish_reason).toBe('tool_calls')
  })

  test('a name already taken is refused at registration; the first owner keeps it', async () => {
    const copycat = await spawnNode(['worker', String(port + 1000), SECRET, 'copycat', 'alpha-chat,gamma-chat'])
    nodes.push(copycat.node)
    expect(copycat.line).toStartWith('worker ready copycat ')
    const ids = await waitForModels(url, (list) => list.includes('gamma-chat'))
    expect(ids.filter((id) => id === 'alpha-chat')).toHaveLength(1)
    const answer = await client.chat.completions.create({ model: 'alpha-chat', messages: [{ role: 'user', content: 'hi' }] })
    expect(answer.choices[0]!.message.content).toStartWith('alpha-chat:')
  })

  test('a worker with the wrong cluster secret is refused', async () => {
    const intruder = await spawnNode(['worker', String(port + 1000), 'not-the-secret', 'intruder', 'evil-chat'])
    expect(intruder.line).toStartWith('failed:')
    expect(intruder.line).toContain('secret')
    expect(await intruder.node.process.exited).toBe(3)
    expect(await waitForModels(url, () => true)).not.toContain('evil-chat')
  })

  test('a killed worker loses its models after the heartbeat timeout; the master serves the rest', async () => {
    const doomed = await spawnNode(['worker', String(port + 1000), SECRET, 'doomed', 'doomed-chat'])
    expect(doomed.line).toStartWith('worker ready doomed ')
    expect(await waitForModels(url, (ids) => ids.includes('doomed-chat'))).toContain('doomed-chat')
    doomed.node.process.kill('SIGKILL')
    expect(await waitForModels(url, (ids) => !ids.includes('doomed-chat'))).not.toContain('doomed-chat')
    const still = await client.chat.completions.create({ model: 'beta-chat', messages: [{ role: 'user', content: 'hi' }] })
    expect(still.choices[0]!.message.content).toStartWith('beta-chat:')
  })

  test('a worker killed mid-stream: the client gets an SSE error event, then the end; the master serves on', async () => {
    const fragile = await spawnNode(['worker', String(port + 1000), SECRET, 'fragile', 'fragile-chat'])
    expect(fragile.line).toStartWith('worker ready fragile ')
    await waitForModels(url, (ids) => ids.includes('fragile-chat'))
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // max_tokens 1000 makes the fixture slow: 200 ms a word.
      body: JSON.stringify({ model: 'fragile-chat', stream: true, max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }),
    })
    const reader = response.body!.getReader()
    await reader.read()
    fragile.node.process.kill('SIGKILL')
    let text = ''
    for (let part = await reader.read(); !part.done; part = await reader.read()) text += new TextDecoder().decode(part.value)
    const frames = sseFrames(text) as Array<{ error?: { type: string; message: string } }>
    expect(frames.at(-1)?.error?.type).toBe('upstream_error')
    // Our words, not the fetch implementation's ("pass `verbose: true` …").
    expect(frames.at(-1)?.error?.message).toMatch(/^Worker 'fragile' (broke the connection( \([A-Za-z_]+\))?|stopped before finishing)$/)
    assertMatchesSchema('ErrorResponse', frames.at(-1))
    const still = await client.chat.completions.create({ model: 'alpha-chat', messages: [{ role: 'user', content: 'hi' }] })
    expect(still.choices[0]!.message.content).toStartWith('alpha-chat:')
  })

  test('a client that leaves cancels the work on the worker', async () => {
    const watched = await spawnNode(['worker', String(port + 1000), SECRET, 'watched', 'watched-chat'])
    nodes.push(watched.node)
    await waitForModels(url, (ids) => ids.includes('watched-chat'))
    const leaving = new AbortController()
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'watched-chat', stream: true, max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }),
      signal: leaving.signal,
    })
    await response.body!.getReader().read()
    leaving.abort()
    expect(await waitFor(() => watched.node.output(), (output) => output.includes('aborted watched-chat'))).toContain('aborted watched-chat')
  })
})

describe('run(port) picks the mode by what holds the port', () => {
  test('free → master; one of our masters → worker; anything else → a clear error', async () => {
    const free = clusterPort()
    const first = await spawnNode(['auto', String(free), SECRET, 'auto-1', 'auto-one-chat'])
    const second = await spawnNode(['auto', String(free), SECRET, 'auto-2', 'auto-two-chat'])
    try {
      expect(first.line).toBe('auto master')
      expect(second.line).toBe('auto worker')
      const ids = await waitForModels(`http://127.0.0.1:${free}`, (list) => list.includes('auto-two-chat'))
      expect(ids).toEqual(expect.arrayContaining(['auto-one-chat', 'auto-two-chat']))
      // A port held by something else: here, a plain HTTP server.
      const stranger = Bun.serve({ port: 0, hostname: '0.0.0.0', development: false, error: () => new Response('error', { status: 500 }), fetch: () => new Response('not a cy master') })
      try {
        const third = await spawnNode(['auto', String(stranger.port), SECRET, 'auto-3', ''])
        expect(third.line).toContain('not a cy master')
        expect(await third.node.process.exited).toBe(3)
      } finally {
        stranger.stop(true)
      }
    } finally {
      for (const node of [first.node, second.node]) node.process.kill('SIGTERM')
    }
  })
})

describe('a master that restarts', () => {
  test('gets its workers back: they reconnect and register again by themselves', async () => {
    const restartPort = clusterPort()
    let master = await spawnNode(['master', String(restartPort), SECRET])
    const worker = await spawnNode(['worker', String(restartPort + 1000), SECRET, 'loyal', 'loyal-chat'])
    const base = `http://127.0.0.1:${restartPort}`
    try {
      expect(await waitForModels(base, (ids) => ids.includes('loyal-chat'))).toContain('loyal-chat')
      master.node.process.kill('SIGKILL')
      await master.node.process.exited
      master = await spawnNode(['master', String(restartPort), SECRET])
      expect(master.line).toStartWith('master ready')
      expect(await waitForModels(base, (ids) => ids.includes('loyal-chat'))).toContain('loyal-chat')
      const answer = await recordingClient(base).client.chat.completions.create({ model: 'loyal-chat', messages: [{ role: 'user', content: 'hi' }] })
      expect(answer.choices[0]!.message.content).toStartWith('loyal-chat:')
    } finally {
      master.node.process.kill('SIGTERM')
      worker.node.process.kill('SIGTERM')
    }
  })
})

describe('replicas (allowReplicas on the master)', () => {
  test('one name, two workers: the least busy takes each request; /health/details shows the load; a killed replica loses nothing not yet streaming', async () => {
    const replicaPort = clusterPort()
    const base = `http://127.0.0.1:${replicaPort}`
    const master = await spawnNode(['master-replicas', String(replicaPort), SECRET])
    const one = await spawnNode(['worker', String(replicaPort), SECRET, 'one', 'twin-chat'])
    const two = await spawnNode(['worker', String(replicaPort), SECRET, 'two', 'twin-chat'])
    // afterAll kills them too, should this test fail before its own cleanup.
    nodes.push(master.node, one.node, two.node)
    try {
      expect([master.line.split(' ')[0], ...[one.line, two.line].map((line) => line.split(' ').slice(0, 3).join(' '))]).toEqual(['master', 'worker ready one', 'worker ready two'])
      const replicas = recordingClient(base).client
      const ownerOfTwin = async () => (await replicas.models.retrieve('twin-chat').catch(() => ({ owned_by: '' }))).owned_by
      expect(await waitFor(ownerOfTwin, (owner) => owner === 'one,two')).toBe('one,two')
      expect((await waitForModels(base, () => true)).filter((id) => id === 'twin-chat')).toHaveLength(1)

      // Four slow streams at once: two on each worker.
      const leaving = new AbortController()
      const slow = () =>
        fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'twin-chat', stream: true, max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }),
          signal: leaving.signal,
        })
      const responses = await Promise.all([slow(), slow(), slow(), slow()])
      const firsts = await Promise.all(responses.map(async (response) => new TextDecoder().decode((await response.body!.getReader().read()).value)))
      const health = (await (await fetch(`${base}/health/details`)).json()) as { cluster: { workers: Array<{ id: string; models: string[]; in_flight: number; last_heartbeat: string }> } }
      expect(health.cluster.workers.map((w) => [w.id, w.models, w.in_flight]).sort()).toEqual([
        ['one', ['twin-chat'], 2],
        ['two', ['twin-chat'], 2],
      ])
      for (const worker of health.cluster.workers) expect(Date.now() - Date.parse(worker.last_heartbeat)).toBeLessThan(5000)
      const servedBy = firsts.map((first) => (sseFrames(first)[0] as { choices: Array<{ delta: { content?: string } }> }).choices[0]!.delta.content ?? '')
      expect(servedBy.sort()).toEqual(['twin-chat@one:', 'twin-chat@one:', 'twin-chat@two:', 'twin-chat@two:'])
      leaving.abort()

      // Kill one replica; before the master notices, every new request still gets an answer.
      one.node.process.kill('SIGKILL')
      await one.node.process.exited
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => replicas.chat.completions.create({ model: 'twin-chat', messages: [{ role: 'user', content: 'hi' }] })),
      )
      expect(answers.map((answer) => answer.choices[0]!.message.content)).toEqual(Array(6).fill('twin-chat@two: hello from the cluster'))
      // Once timed out, the dead replica leaves the name to the living one.
      expect(await waitFor(ownerOfTwin, (owner) => owner === 'two')).toBe('two')
    } finally {
      for (const node of [master.node, one.node, two.node]) node.process.kill('SIGTERM')
    }
  }, 30_000)
})
