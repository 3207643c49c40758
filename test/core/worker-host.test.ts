import { afterAll, describe, expect, test } from 'bun:test'
import { BadRequestError, CancelledError, OutputChannel, ProviderError, WorkerHost, type OutputChunk } from '@cy/core'
import type { BlockArgs, HeldBatchArgs } from '../fixtures/blocking-worker.ts'
import { drain, expectCreditBound, texts, until } from './process-host-support.ts'

const fixture = new URL('../fixtures/blocking-worker.ts', import.meta.url)


const hosts: WorkerHost[] = []
function newHost(): WorkerHost {
  const host = new WorkerHost(fixture, { name: 'test:blocking' })
  hosts.push(host)
  return host
}
// Live Workers would keep the test process alive.
afterAll(() => {
  for (const host of hosts) host.terminate()
})


describe('WorkerHost + serveWorker', () => {
  const host = newHost()

  test('chunks arrive in order in the channel, all before call() resolves with the return value', async () => {
    const channel = new OutputChannel({ highWaterMark: 1000 })
    const value = await host.call<{ counted: number }>('count', { n: 200 }, channel)
    expect(value).toEqual({ counted: 200 })
    // Everything was delivered by the time the call resolved.
    expect(channel.buffered).toBe(200)
    channel.end()
    expect(texts(await drain(channel))).toEqual(Array.from({ length: 200 }, (_, i) => String(i)))
  })

  test('without an output sink, chunks are discarded and the value still comes back', async () => {
    expect(await host.call('count', { n: 300 })).toEqual({ counted: 300 })
  })

  test('calls on one host run one after another and each keeps its own output', async () => {
    const a = new OutputChannel()
    const b = new OutputChannel()
    const [va, vb] = await Promise.all([host.call('count', { n: 3 }, a), host.call('count', { n: 5 }, b)])
    expect(va).toEqual({ counted: 3 })
    expect(vb).toEqual({ counted: 5 })
    a.end()
    b.end()
    expect(texts(await drain(a))).toEqual(['0', '1', '2'])
    expect(texts(await drain(b))).toEqual(['0', '1', '2', '3', '4'])
  })

  test('a thrown BadRequestError arrives as a 400 on the main thread', async () => {
    const error = await host.call('badRequest', {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BadRequestError)
    expect(error).toMatchObject({
      status: 400,
      message: 'n_ctx is too small for this prompt',
      param: 'messages',
      code: 'context_length_exceeded',
    })
  })

  test('a plain Error arrives as ProviderError 502 with its message', async () => {
    const error = await host.call('plainError', {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProviderError)
    expect(error).toMatchObject({ status: 502, message: 'CUDA error: device lost' })
  })

  test('an unknown method fails with 502 naming it', async () => {
    const error = await host.call('nope', {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProviderError)
    expect((error as Error).message).toBe("The engine worker has no method 'nope'")
  })

  test('an in-band error chunk fails the channel while the call itself resolves', async () => {
    const channel = new OutputChannel()
    expect(await host.call('errorChunk', {}, channel)).toBe('done')
    expect(texts((await channel.take())!)).toEqual(['partial'])
    const error = await channel.take().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProviderError)
    expect(error).toMatchObject({ message: 'engine ran out of memory', code: 'oom' })
  })

  test('a host still serves calls after one failed', async () => {
    await host.call('plainError', {}).catch(() => {})
    expect(await host.call('count', { n: 1 })).toEqual({ counted: 1 })
  })
})

describe('cancellation', () => {
  const host = newHost()
  // At most 2000 steps of 5 ms: a safety net long enough that only a working cancel stops it early.
  const maxSteps = 2000

  test("the OutputChannel's abort stops a blocking loop early through the shared flag", async () => {
    const channel = new OutputChannel()
    const call = host.call<number>('block', { maxSteps, stepMs: 5 } satisfies BlockArgs, channel)
    // The loop is running (and never yielding) once its first chunk is here.
    expect(texts((await channel.take())!)).toEqual(['.'])
    channel.abort(new CancelledError('client left'))
    const steps = await call
    expect(steps).toBeGreaterThanOrEqual(1)
    expect(steps).toBeLessThan(maxSteps)
    await expect(channel.take()).rejects.toBeInstanceOf(CancelledError)
  })

  test('an abort reaches an async method through its signal', async () => {
    const channel = new OutputChannel()
    const call = host.call('waitForCancel', {}, channel)
    // Something the Worker answers only after the waiting call has been received: calls are processed in order.
    await host.call('count', { n: 0 })
    channel.abort(new CancelledError('client left'))
    expect(await call).toEqual({ status: 499, name: 'CancelledError' })
  })

  test('a call whose output is already aborted still sees the cancel on its signal', async () => {
    // This used to hang: the cancel message overtook the call and was dropped by the Worker.
    const channel = new OutputChannel()
    channel.abort(new CancelledError('gone before it started'))
    expect(await host.call('waitForCancel', {}, channel)).toEqual({ status: 499, name: 'CancelledError' })
  }, 10_000)

  test('a call whose output is already aborted does no blocking work', async () => {
    const channel = new OutputChannel()
    channel.abort(new CancelledError('gone'))
    expect(await host.call('block', { maxSteps, stepMs: 5 } satisfies BlockArgs, channel)).toBe(0)
  })

  test('terminate() fails calls in flight with CancelledError, and later calls too', async () => {
    const doomed = newHost()
    const channel = new OutputChannel()
    const call = doomed.call('block', { maxSteps, stepMs: 5 } satisfies BlockArgs, channel)
    await channel.take()
    doomed.terminate()
    const error = await call.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CancelledError)
    expect(error).toMatchObject({ status: 499 })
    expect((error as Error).message).toContain("Engine worker 'test:blocking' was stopped")
    await expect(doomed.call('count', { n: 1 })).rejects.toBeInstanceOf(CancelledError)
  })
})

describe('back-pressure', () => {
  const host = newHost()

  test('with a reader that does not take, the Worker stops after about the credit window', () => expectCreditBound(host))

  test('a slow reader gets every chunk in order and the call completes', async () => {
    const channel = new OutputChannel({ highWaterMark: 8 })
    const call = host.call<number>('flood', { n: 500 }, channel).then((n) => {
      channel.end()
      return n
    })
    const seen: OutputChunk[] = []
    for (;;) {
      await Bun.sleep(1)
      const chunks = await channel.take()
      if (chunks === null) break
      seen.push(...chunks)
    }
    expect(await call).toBe(500)
    expect(texts(seen)).toEqual(Array.from({ length: 500 }, (_, i) => String(i)))
  })
})

describe('batched output', () => {
  const host = newHost()

  test('chunks pushed inside batchOutput arrive together, in order, once the batch closes', async () => {
    const shared = () => new Int32Array(new SharedArrayBuffer(4))
    const args: HeldBatchArgs = { n: 50, pushed: shared(), release: shared() }
    const channel = new OutputChannel({ highWaterMark: 1000 })
    const call = host.call<number>('heldBatch', args, channel)
    // The Worker has pushed all 50 and holds the batch open.
    await until(() => Atomics.load(args.pushed, 0) === 1, 'the Worker to push the batch')
    // Posted one by one, they would be here by now; held in the batch, none are.
    await Bun.sleep(100)
    expect(channel.buffered).toBe(0)
    Atomics.store(args.release, 0, 1)
    expect(await call).toBe(50)
    // All of them came before the call's end.
    expect(channel.buffered).toBe(50)
    channel.end()
    expect(texts(await drain(channel))).toEqual(Array.from({ length: 50 }, (_, i) => String(i)))
  })
})
