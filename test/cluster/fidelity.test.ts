import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { clusterPort } from '../support/cluster-port.ts'
import { spawnNode, waitForModels, type Node } from './nodes.ts'

// The same models served by a plain Server (the worker alone) and by a worker through a master: a client
// must get the same status and the same bytes, ids and timestamps aside.
const SECRET = 'fidelity-secret'
const MODELS = 'fid-oracle,fid-embed'
const nodes: Node[] = []
let alone: string
let master: string

beforeAll(async () => {
  const port = clusterPort()
  // A long worker timeout: the master still lists a killed worker, so the last test reaches it.
  const env = { CY_TEST_WORKER_TIMEOUT_MS: '60000' }
  const standalone = await spawnNode(['standalone', '0', '', 'fid', MODELS])
  const head = await spawnNode(['master', String(port), SECRET], env)
  nodes.push(standalone.node, head.node)
  expect(standalone.line).toStartWith('standalone ready ')
  expect(head.line).toStartWith('master ready ')
  const worker = await spawnNode(['worker', String(port), SECRET, 'fid', MODELS])
  nodes.push(worker.node)
  expect(worker.line).toStartWith('worker ready fid ')
  alone = standalone.line.split(' ')[2]!
  master = head.line.split(' ')[2]!
  expect(await waitForModels(master, (ids) => ids.includes('fid-embed'))).toContain('fid-oracle')
}, 60_000)
afterAll(async () => {
  for (const node of nodes) node.process.kill('SIGTERM')
  await Promise.all(nodes.map((node) => node.process.exited))
})

/** Ids and timestamps differ between any two answers; everything else must not. */
const normalise = (text: string) => text.replace(/"id":"[^"]*"/g, '"id":"<id>"').replace(/"created(_at)?":\d+/g, '"created$1":<time>')

async function answer(base: string, path: string, body: unknown): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: normalise(await response.text()) }
}

const chat = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'fid-oracle', messages: [{ role: 'user', content }], ...extra })

// User content that looks like the cluster's own binary tags must arrive as the user wrote it.
const TAGGED = {
  metadata: { $bytes: 'aGk=', note: { $f32: 'AACAPw==' }, $esc: [['a', 1]] },
  user: 'u-1',
  tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object', properties: { $bytes: { type: 'string' } } } } }],
}

const CASES: Array<[string, string, unknown]> = [
  ['a JSON answer', '/v1/chat/completions', chat('hello')],
  ['an SSE answer', '/v1/chat/completions', chat('hello', { stream: true, stream_options: { include_usage: true } })],
  ['a 400 from the model', '/v1/chat/completions', chat('bad')],
  ['a 400 from the model, streaming', '/v1/chat/completions', chat('bad', { stream: true })],
  ['an unknown-model 404 from the model (invalid_request_error, model_not_found)', '/v1/chat/completions', chat('ghost')],
  ['a not-found 404 from the model', '/v1/chat/completions', chat('missing')],
  ['a plain exception in the model (502)', '/v1/chat/completions', chat('crash')],
  ['user objects with $bytes, $f32 and $esc keys (metadata, tool parameters)', '/v1/chat/completions', chat('hello', TAGGED)],
  ['the same, streaming', '/v1/chat/completions', chat('hello', { ...TAGGED, stream: true })],
  ['float embeddings', '/v1/embeddings', { model: 'fid-embed', input: ['abc', 'de'], encoding_format: 'float' }],
  ['base64 embeddings', '/v1/embeddings', { model: 'fid-embed', input: 'abcd', encoding_format: 'base64' }],
]

describe('a request through a master answers what the worker alone answers', () => {
  for (const [name, path, body] of CASES) {
    test(name, async () => {
      const direct = await answer(alone, path, body)
      const forwarded = await answer(master, path, body)
      expect(forwarded).toEqual(direct)
    })
  }

  test('the echo shows the tagged user objects intact', async () => {
    const response = await fetch(`${master}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('hello', TAGGED)) })
    const content = JSON.parse(((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content)
    expect(content.metadata).toEqual(TAGGED.metadata)
    expect(content.tools[0].function.parameters.properties).toEqual({ $bytes: { type: 'string' } })
  })

  test('a worker that cannot be reached is a clean 502 upstream_error, without the fetch library’s words', async () => {
    const worker = nodes[2]!
    worker.process.kill('SIGKILL')
    await worker.process.exited
    const response = await fetch(`${master}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('hello')) })
    expect(response.status).toBe(502)
    const text = await response.text()
    const error = JSON.parse(text).error
    expect(error.type).toBe('upstream_error')
    expect(error.message).toMatch(/^Worker 'fid' is unreachable( \([A-Za-z]+\))?$/)
    expect(text).not.toContain('verbose')
  })
})
