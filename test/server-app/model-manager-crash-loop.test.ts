import { OutputChunk, type AdapterV1, type EngineStatus, type LoadedModel } from '@cy/core'
import { Server } from '@cy/http'
import { afterAll, describe, expect, test } from 'bun:test'
import { ModelManager } from '../../apps/server/src/model-manager.ts'
import { manifest } from '../fixtures/adapter-echo/src/manifest.ts'

// A test double at the adapter boundary: an engine host whose status the test drives. The real crash, restart
// and give-up of an engine process are tested against a real child in test/core/process-host-restart.test.ts;
// this checks what the server app makes of those reports.
const engines: Array<(status: EngineStatus) => void> = []
const adapter: AdapterV1 = {
  specificationVersion: 'v1',
  manifest,
  canLoad: () => ({ claim: false }),
  async load(): Promise<LoadedModel> {
    let report: (status: EngineStatus) => void = () => {}
    engines.push((status) => report(status))
    return {
      providers: {
        chat: (_request, out) => {
          out.push(OutputChunk.textDelta('fresh'))
          out.end()
        },
      },
      onStatus: (listener) => {
        report = listener
        return () => (report = () => {})
      },
      dispose: () => {},
    }
  },
}

const server = new Server({ port: 0 })
const manager = new ModelManager({ server, registrar: server, adapters: [{ adapter, packageName: '@cy/adapter-echo', version: '0', directory: '.' }], log: () => {} })
afterAll(() => manager.dispose())

describe('an engine that crashes in a loop', () => {
  test('restarts show as loading, giving up as failed with the reason, and a load afterwards starts the engine anew', async () => {
    await manager.add({ name: 'flaky', adapter: manifest.name })
    await manager.load('flaky')
    expect(server.registry.status('flaky')?.state).toBe('ready')
    engines[0]!({ state: 'restarting', reason: 'exited (signal SIGABRT)', attempt: 1 })
    expect(server.registry.status('flaky')).toMatchObject({ state: 'loading' })
    // The restart is counted in /metrics.
    const metrics = await server.app.handle(new Request('http://127.0.0.1/metrics'))
    expect(await metrics.text()).toContain('cy_engine_restarts_total{model="flaky"} 1')
    engines[0]!({ state: 'failed', reason: 'exited (signal SIGABRT); gave up after 5 restarts within 60 s' })
    expect(server.registry.status('flaky')).toMatchObject({ state: 'failed', reason: expect.stringContaining('gave up') })
    // An explicit load frees the engine that gave up and loads a new one.
    await manager.load('flaky')
    expect(engines.length).toBe(2)
    expect(server.registry.status('flaky')?.state).toBe('ready')
  })
})
