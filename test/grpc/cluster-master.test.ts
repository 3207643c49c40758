import { ClusterServer } from '@cy/cluster'
import { OutputChunk } from '@cy/core'
import { GrpcServer } from '@cy/grpc'
import type { ClientReadableStream } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { waitFor } from '../cluster/nodes.ts'
import { clusterPort } from '../support/cluster-port.ts'
import { clients, collect, streamText, withKey, type PredictResponse } from './grpc-support.ts'

const SECRET = 'hint-secret'
let master: ClusterServer
const workers: ClusterServer[] = []
let grpcServer: GrpcServer
let client: ReturnType<typeof clients>

/** Requests of worker one's one-slot model, in the order they started; each runs until the test finishes it. */
const started: Array<{ prompt: string; finish: () => void }> = []
let onStart: (() => void) | undefined

/** Resolves once `count` requests of the one-slot model have started. */
function startedCount(count: number): Promise<void> {
  if (started.length >= count) return Promise.resolve()
  return new Promise((resolve) => (onStart = () => started.length >= count && resolve()))
}

/** A worker serving 'twin', whose answer names the worker; worker one also serves 'single', one request at a time. */
async function startWorker(id: string, port: number): Promise<ClusterServer> {
  const worker = new ClusterServer({ secret: SECRET, workerId: id, heartbeatIntervalMs: 100, server: { hostname: '127.0.0.1' } })
  worker.registerCompletion('twin', (_request, out) => {
    out.push(OutputChunk.textDelta(`served by ${id}`))
    out.end()
  })
  if (id === 'one') {
    worker.registerCompletion(
      'single',
      (request, out) => {
        started.push({ prompt: String(request.prompt), finish: () => out.end() })
        out.push(OutputChunk.textDelta('started'))
        onStart?.()
      },
      { limits: { maxConcurrency: 1, maxQueue: 8 } },
    )
  }
  worker.setWorkerListenAddress('127.0.0.1', 0)
  await worker.runAsWorker('127.0.0.1', port)
  workers.push(worker)
  return worker
}

beforeAll(async () => {
  const port = clusterPort()
  master = new ClusterServer({ secret: SECRET, allowReplicas: true, server: { hostname: '127.0.0.1' } })
  await master.runAsMaster(port, '127.0.0.1')
  await startWorker('one', port)
  await startWorker('two', port)
  const owners = async () => ((await (await fetch(`${master.getServer().url}/v1/models/twin`)).json()) as { owned_by?: string }).owned_by
  expect(await waitFor(owners, (owner) => owner === 'one,two')).toBe('one,two')
  grpcServer = new GrpcServer(master.getServer().context)
  client = clients(`127.0.0.1:${await grpcServer.start(0)}`)
})

afterAll(async () => {
  client?.close()
  await grpcServer?.stop()
  for (const worker of workers) await worker.stop()
  await master?.stop()
})

const servedBy = async (request: object) => {
  const { responses, error } = await collect(client.ai.StreamPredict!({ model_id: 'twin', prompt: 'hi', ...request }, withKey()) as ClientReadableStream<PredictResponse>)
  expect(error).toBeUndefined()
  return streamText(responses)
}

describe('StreamPredict through a cluster master', () => {
  test('the hinted worker serves every call; without a hint, or with one naming no worker, the usual choice serves', async () => {
    for (const hint of ['two', 'one', 'two', 'two', 'one']) expect(await servedBy({ worker_hint: hint })).toBe(`served by ${hint}`)
    // The usual choice (the least busy) otherwise.
    expect(await servedBy({ worker_hint: 'nobody' })).toMatch(/^served by (one|two)$/)
    expect(await servedBy({})).toMatch(/^served by (one|two)$/)
  })

  test("priority reaches the worker's queue: its one-slot model takes the waiting calls highest first", async () => {
    const worker = workers[0]!
    const call = (prompt: string, priority?: number) =>
      collect(client.ai.StreamPredict!({ model_id: 'single', prompt, ...(priority !== undefined ? { priority } : {}) }, withKey()) as ClientReadableStream<PredictResponse>)
    const calls = [call('holder')]
    await startedCount(1)
    for (const [prompt, priority] of [['low', -2], ['default', undefined], ['high', 3]] as const) {
      calls.push(call(prompt, priority))
      // Each waits in the worker's queue before the next is sent, so arrival order is known.
      while (worker.getServer().dispatcher.waiting < calls.length - 1) await new Promise((resolve) => setImmediate(resolve))
    }
    for (let count = 1; count <= 4; count++) {
      await startedCount(count)
      started[count - 1]!.finish()
    }
    await Promise.all(calls)
    expect(started.map((entry) => entry.prompt)).toEqual(['holder', 'high', 'default', 'low'])
  })
})
