import { ReplicaSet, type RemoteWorker } from '@cy/cluster'
import { describe, expect, test } from 'bun:test'

const worker = (id: string, inFlight = 0, failedAt = 0): RemoteWorker => ({ id, url: `http://${id}`, secret: undefined, inFlight, failedAt })

describe('ReplicaSet.pick with a worker hint (StreamPredict worker_hint)', () => {
  test('the hinted worker wins over the least busy one when it serves the model and is ready', () => {
    const replicas = new ReplicaSet('m', ['completion'])
    const idle = worker('idle')
    const busy = worker('busy', 3)
    replicas.add(idle)
    replicas.add(busy)
    expect(replicas.pick(new Set())).toBe(idle)
    expect(replicas.pick(new Set(), 'busy')).toBe(busy)
  })

  test('otherwise the usual choice: a hint naming no replica, one not ready, one that just failed, or one already tried', () => {
    const replicas = new ReplicaSet('m', ['completion'])
    const idle = worker('idle')
    const loading = worker('loading')
    const failed = worker('failed', 0, Date.now())
    const tried = worker('tried')
    replicas.add(idle)
    replicas.add(loading, { state: 'loading' })
    replicas.add(failed)
    replicas.add(tried)
    for (const hint of ['elsewhere', 'loading', 'failed']) expect(replicas.pick(new Set(), hint)).toBe(idle)
    // A retry after the hinted worker failed the request goes to another.
    expect(replicas.pick(new Set([tried]), 'tried')).toBe(idle)
  })
})
