import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ClusterServer, CLUSTER_MAGIC, encodeWire, PATHS, signRequest, VERSION_HEADER } from '@cy/cluster'
import { clusterPort } from '../support/cluster-port.ts'
import { spawnNode, waitForModels, workerUrl, type Node } from './nodes.ts'

const SECRET = 'security-test-secret'
const API_KEY = 'security-api-key'
// The worker's body limit: a forwarded body may be a third larger (bytes travel as base64), plus 64 KiB.
const MAX_BODY = 4096
const nodes: Node[] = []
let port: number
let master: string
let worker: string
let devMaster: string
let devWorker: string

beforeAll(async () => {
  port = clusterPort()
  const head = await spawnNode(['master', String(port), SECRET], { CY_TEST_API_KEY: API_KEY })
  nodes.push(head.node)
  expect(head.line).toStartWith('master ready ')
  const member = await spawnNode(['worker', String(port), SECRET, 'sec', 'sec-chat'], { CY_TEST_MAX_BODY: String(MAX_BODY) })
  nodes.push(member.node)
  expect(member.line).toStartWith('worker ready sec ')
  // A cluster without a secret, on loopback: allowed for development.
  const devPort = clusterPort()
  const devHead = await spawnNode(['master', String(devPort), ''])
  nodes.push(devHead.node)
  const devMember = await spawnNode(['worker', String(devPort), '', 'dev', 'dev-chat'])
  nodes.push(devMember.node)
  expect([devHead.line.split(' ').slice(0, 2).join(' '), devMember.line.split(' ').slice(0, 3).join(' ')]).toEqual(['master ready', 'worker ready dev'])
  master = head.line.split(' ')[2]!
  worker = workerUrl(member.line)
  devMaster = devHead.line.split(' ')[2]!
  devWorker = workerUrl(devMember.line)
  expect(await waitForModels(master, (ids) => ids.includes('sec-chat'), API_KEY)).toContain('sec-chat')
  expect(await waitForModels(devMaster, (ids) => ids.includes('dev-chat'))).toContain('dev-chat')
}, 60_000)
afterAll(async () => {
  for (const node of nodes) node.process.kill('SIGTERM')
  await Promise.all(nodes.map((node) => node.process.exited))
})

const RUN = encodeWire({ capability: 'chat', request: { model: 'sec-chat', messages: [{ role: 'user', content: 'hi' }] } })

/** POSTs `body` to a node's internal `path`, signed with `secret` unless headers are given. */
function post(base: string, path: string, body: BodyInit, headers: Record<string, string>): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
}
const signed = (body: string, secret = SECRET, path: string = PATHS.run, now?: number) => signRequest(secret, 'POST', path, body, now === undefined ? {} : { now })

async function errorOf(response: Response): Promise<{ status: number; error: { message: string; type: string; param: string | null; code: string | null } }> {
  const text = await response.text()
  // Never Bun's development page, a stack trace or a path of this machine.
  expect(text).not.toContain(process.cwd())
  expect(text).not.toMatch(/<html|\n\s+at /i)
  expect(response.headers.get('content-type')).toStartWith('application/json')
  return { status: response.status, error: JSON.parse(text).error }
}

describe('the worker’s run port, with a cluster secret', () => {
  test('runs a request signed with the secret', async () => {
    const response = await post(worker, PATHS.run, RUN, signed(RUN))
    expect(response.status).toBe(200)
    const lines = (await response.text()).trim().split('\n').map((line) => JSON.parse(line))
    expect(lines.at(-1)).toEqual({ end: true })
    expect(lines.flatMap((line) => line.chunks ?? []).filter((c) => c.type === 'text-delta').map((c) => c.text).join('')).toBe('sec-chat: hello from the cluster')
  })

  test('refuses an unsigned call, the secret sent in clear, and a signature made with another secret', async () => {
    const unsigned = { [VERSION_HEADER]: CLUSTER_MAGIC }
    for (const headers of [unsigned, { ...unsigned, 'x-cy-cluster-secret': SECRET }, signed(RUN, 'another-secret')]) {
      const { status, error } = await errorOf(await post(worker, PATHS.run, RUN, headers))
      expect([status, error.type, error.code]).toEqual([401, 'authentication_error', 'invalid_cluster_secret'])
    }
  })

  test('refuses a replayed call, one outside the time window, and a body changed after signing', async () => {
    const once = signed(RUN)
    expect((await post(worker, PATHS.run, RUN, once)).status).toBe(200)
    const replay = await errorOf(await post(worker, PATHS.run, RUN, once))
    expect([replay.status, replay.error.code]).toEqual([401, 'replayed_cluster_request'])
    for (const skew of [-60_000, 60_000]) {
      const stale = await errorOf(await post(worker, PATHS.run, RUN, signed(RUN, SECRET, PATHS.run, Date.now() + skew)))
      expect([stale.status, stale.error.code]).toEqual([401, 'stale_cluster_request'])
    }
    const changed = RUN.replace('"hi"', '"ho"')
    const forged = await errorOf(await post(worker, PATHS.run, changed, signed(RUN)))
    expect([forged.status, forged.error.code]).toEqual([401, 'invalid_cluster_secret'])
  })

  test('malformed JSON and requests that fail the schemas get clean 400s naming the parameter', async () => {
    const cases: Array<[string, string | null, string]> = [
      ['{"capability": "chat", "request": ', null, 'invalid_json'],
      [encodeWire({ capability: 'teleport', request: {} }), 'capability', 'invalid_value'],
      [encodeWire({ capability: 'chat', request: { model: 'sec-chat', messages: 'nope' } }), 'messages', 'invalid_value'],
      [encodeWire({ capability: 'chat', request: { model: 'sec-chat', messages: [{ role: 'user', content: 'hi' }], temperature: 9 } }), 'temperature', 'invalid_value'],
      [encodeWire({ capability: 'tts', request: { model: 'sec-chat', voice: 'v' } }), 'input', 'invalid_value'],
    ]
    for (const [body, param, code] of cases) {
      const { status, error } = await errorOf(await post(worker, PATHS.run, body, signed(body)))
      expect([status, error.type, error.param, error.code]).toEqual([400, 'invalid_request_error', param, code])
    }
    // The master's internal port alike.
    const broken = 'not json'
    const { status, error } = await errorOf(await post(`http://127.0.0.1:${port + 1000}`, PATHS.register, broken, signed(broken, SECRET, PATHS.register)))
    expect([status, error.code]).toEqual([400, 'invalid_json'])
  })

  test('applies the body limit, declared or chunked', async () => {
    const big = encodeWire({ capability: 'chat', request: { model: 'sec-chat', messages: [{ role: 'user', content: 'x'.repeat(100_000) }] } })
    const declared = await errorOf(await post(worker, PATHS.run, big, signed(big)))
    expect([declared.status, declared.error.type]).toEqual([413, 'invalid_request_error'])
    const bytes = new TextEncoder().encode(big)
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 8192) controller.enqueue(bytes.subarray(at, at + 8192))
        controller.close()
      },
    })
    const streamed = await errorOf(await post(worker, PATHS.run, chunked, signed(big)))
    expect(streamed.status).toBe(413)
  })

  test('refuses a browser: any request that carries an Origin', async () => {
    for (const [base, path] of [
      [worker, PATHS.run],
      [`http://127.0.0.1:${port + 1000}`, PATHS.heartbeat],
    ] as const) {
      const body = path === PATHS.run ? RUN : '{"workerId":"sec"}'
      const { status, error } = await errorOf(await post(base, path, body, { ...signed(body, SECRET, path), origin: 'http://evil.example' }))
      expect([status, error.type]).toEqual([403, 'permission_error'])
    }
  })

  test('a peer of another protocol version gets a clear 400 protocol_mismatch', async () => {
    const { status, error } = await errorOf(await post(worker, PATHS.run, RUN, { ...signed(RUN), [VERSION_HEADER]: 'cy-cluster/1' }))
    expect([status, error.code]).toEqual([400, 'protocol_mismatch'])
    expect(error.message).toContain(`This node speaks ${CLUSTER_MAGIC}; the caller speaks cy-cluster/1`)
  })
})

describe('protocol versions', () => {
  test(`a worker of ${CLUSTER_MAGIC} facing a master of another version says so`, async () => {
    // A test double of an older master: all it needs is the hello an older version answers.
    const old = Bun.serve({ port: 0, hostname: '127.0.0.1', development: false, error: () => new Response('error', { status: 500 }), fetch: () => Response.json({ magic: 'cy-cluster/1' }) })
    try {
      const member = await spawnNode(['worker', String(old.port), SECRET, 'lost', 'lost-chat'])
      expect(member.line).toBe(`failed: The cy master at 127.0.0.1:${old.port} speaks cy-cluster/1; this node speaks ${CLUSTER_MAGIC}: run the same cy version on every node`)
      expect(await member.node.process.exited).toBe(3)
    } finally {
      old.stop(true)
    }
  })
})

describe('without a cluster secret', () => {
  test('a master or a worker refuses to listen on a non-loopback address', async () => {
    const free = clusterPort()
    const head = new ClusterServer({ server: { hostname: '127.0.0.1' } })
    await expect(head.runAsMaster(free, '0.0.0.0')).rejects.toThrow(
      'Refusing to serve the cluster protocol on 0.0.0.0 without a cluster secret: anyone who can reach it could run requests on these models. Set a secret (--cluster-secret, CY_CLUSTER_SECRET) on the master and every worker, or listen on a loopback address (127.0.0.1)',
    )
    expect(head.getMode()).toBe('standalone')
    const member = new ClusterServer({ server: { hostname: '127.0.0.1' } }).setWorkerListenAddress('0.0.0.0', 0)
    await expect(member.runAsWorker('127.0.0.1', Number(devMaster.split(':').at(-1)))).rejects.toThrow('Refusing to serve the cluster protocol on 0.0.0.0 without a cluster secret')
  })

  test('on loopback it works (development use); a worker listens on loopback by default', async () => {
    const answer = (await (await fetch(`${devMaster}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev-chat', messages: [{ role: 'user', content: 'hi' }] }) })).json()) as {
      choices: Array<{ message: { content: string } }>
    }
    expect(answer.choices[0]!.message.content).toBe('dev-chat: hello from the cluster')
    // No listen address set: the default (loopback) needs no secret.
    const member = new ClusterServer({ workerId: 'in-process', server: { hostname: '127.0.0.1' } })
    member.registerChat('in-process-chat', (_req, out) => out.end())
    try {
      await member.runAsWorker('127.0.0.1', Number(devMaster.split(':').at(-1)))
      expect(await waitForModels(devMaster, (ids) => ids.includes('in-process-chat'))).toContain('in-process-chat')
    } finally {
      await member.stop()
    }
  })

  test('the run port answers unsigned local calls, but not by another host name (DNS rebinding) nor without the protocol header', async () => {
    const body = RUN.replace('sec-chat', 'dev-chat')
    const ok = await post(devWorker, PATHS.run, body, { [VERSION_HEADER]: CLUSTER_MAGIC })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toEndWith('{"end":true}\n')
    const rebound = await errorOf(await post(devWorker, PATHS.run, body, { [VERSION_HEADER]: CLUSTER_MAGIC, host: 'evil.example' }))
    expect([rebound.status, rebound.error.type]).toEqual([403, 'permission_error'])
    const bare = await errorOf(await post(devWorker, PATHS.run, body, {}))
    expect([bare.status, bare.error.code]).toEqual([400, 'protocol_mismatch'])
  })
})

describe('/health on a master', () => {
  test('publicly: liveness and load only; the workers, their URLs, the internal port and model names are details, behind the key', async () => {
    const open = await (await fetch(`${master}/health`)).text()
    expect(JSON.parse(open).status).toBe('ok')
    for (const secret of [worker, worker.split(':').at(-1)!, String(port + 1000), 'sec-chat', 'workers', 'internal_port']) expect(open).not.toContain(secret)
    expect((await fetch(`${master}/health/details`)).status).toBe(401)
    const keyed = await (await fetch(`${master}/health/details`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()
    const cluster = (keyed as { cluster: { internal_port: number; workers: Array<{ id: string; url: string; models: string[] }> } }).cluster
    expect(cluster.internal_port).toBe(port + 1000)
    expect(cluster.workers.map((w) => [w.id, w.url, w.models])).toEqual([['sec', worker, ['sec-chat']]])
  })
})
