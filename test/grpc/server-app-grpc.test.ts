import { parseCliOptions, startApp } from '@cy/server'
import { resolveSettings } from '../../apps/server/src/server-settings.ts'
import { status, type ServiceError } from '@grpc/grpc-js'
import { describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { clients, collect, unary, withKey, type PredictResponse } from './grpc-support.ts'

const ECHO_FIXTURE = resolve(import.meta.dir, '../fixtures/adapter-echo')

describe('--grpc-port', () => {
  test('the flag, else CY_GRPC_PORT, else the config file; off by default', () => {
    expect(parseCliOptions(['--grpc-port', '50051'], { CY_GRPC_PORT: '1' })?.grpcPort).toBe(50051)
    expect(parseCliOptions([], { CY_GRPC_PORT: '50052' })?.grpcPort).toBe(50052)
    expect(parseCliOptions([], {})?.grpcPort).toBeUndefined()
    expect(() => parseCliOptions(['--grpc-port', 'x'], {})).toThrow('--grpc-port must be a non-negative integer')
    expect(resolveSettings({}, { grpcPort: 50053 }).grpcPort).toBe(50053)
    expect(resolveSettings({}, {}).grpcPort).toBeUndefined()
  })

  test('the app serves gRPC on the HTTP host with the same key, says so in the banner, and stops it with the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cy-grpc-app-'))
    const app = await startApp({ port: 0, host: '127.0.0.1', grpcPort: 0, modelsDir: dir, responsesDb: ':memory:', apiKey: 'k', adapterPaths: [], quiet: true }, () => {})
    const port = app.grpc?.port
    expect(port).toBeGreaterThan(0)
    expect(app.banner).toContain(`gRPC      127.0.0.1:${port}`)
    const client = clients(`127.0.0.1:${port}`)
    try {
      expect(await unary(client.health, 'Check', { service: '' })).toEqual({ status: 'SERVING' })
      const predict = (key: string) => collect(client.ai.StreamPredict!({ model_id: 'none', prompt: 'x' }, withKey(key)) as import('@grpc/grpc-js').ClientReadableStream<PredictResponse>)
      expect((await predict('bad')).error?.code).toBe(status.UNAUTHENTICATED)
      expect((await predict('k')).error?.code).toBe(status.NOT_FOUND)
      await app.stop()
      const after = (await unary(client.health, 'Check', { service: '' }).catch((error: unknown) => error)) as ServiceError
      expect(after.code).toBe(status.UNAVAILABLE)
    } finally {
      client.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('a drain refuses new calls, lets a call in flight run to the limit, then ends it with UNAVAILABLE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cy-grpc-drain-'))
    await mkdir(join(dir, 'models'))
    // The echo engine says the prompt back a word per 50 ms.
    await writeFile(join(dir, 'models', 'slow.echo'), 'ECHO v1\nstepMs: 50\n')
    const app = await startApp({ port: 0, host: '127.0.0.1', grpcPort: 0, modelsDir: join(dir, 'models'), responsesDb: ':memory:', adapterPaths: [ECHO_FIXTURE], quiet: true }, () => {})
    const client = clients(`127.0.0.1:${app.grpc!.port}`)
    try {
      await app.loads
      const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')
      const running = client.ai.StreamPredict!({ model_id: 'slow', prompt: words }, withKey()) as import('@grpc/grpc-js').ClientReadableStream<PredictResponse>
      const firstChunk = new Promise((resolve) => running.once('data', resolve))
      const result = collect(running)
      await firstChunk
      const draining = app.drain(300)
      const late = await collect(client.ai.StreamPredict!({ model_id: 'slow', prompt: 'x' }, withKey()) as import('@grpc/grpc-js').ClientReadableStream<PredictResponse>)
      expect(late.error?.code).toBe(status.UNAVAILABLE)
      expect(await draining).toBe(1)
      const { responses, error } = await result
      expect(responses.length).toBeGreaterThan(1)
      expect(responses.some((response) => response.end_of_stream)).toBe(false)
      expect(error?.code).toBe(status.UNAVAILABLE)
      expect(error?.details).toBe('The server is shutting down')
    } finally {
      client.close()
      await app.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
