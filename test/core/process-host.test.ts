// The WorkerHost protocol across a process (isolation 'process'): the same calls, errors, cancellation and
// back-pressure as on a Worker, with cancel and credit as messages instead of shared memory.
import { afterAll, describe, expect, test } from 'bun:test'
import { BadRequestError, CREDIT_BATCH, CancelledError, OutputChannel, ProviderError, WorkerHost, type HostMessage } from '@cy/core'
import { drain, expectCreditBound, texts, until } from './process-host-support.ts'

const blocking = new URL('../fixtures/blocking-worker.ts', import.meta.url)
const crashing = new URL('../fixtures/crashing-engine/crashing-worker.ts', import.meta.url)

const hosts: WorkerHost[] = []
function processHost(url: URL = blocking): WorkerHost {
  const host = new WorkerHost(url, { name: 'test:process', isolation: 'process' })
  hosts.push(host)
  return host
}
// Live children would outlive the test process's interest in them.
afterAll(() => {
  for (const host of hosts) host.terminate()
})


describe('WorkerHost in process isolation', () => {
  const host = processHost()

  test('the engine runs in another process, and chunks arrive in order before call() resolves', async () => {
    const other = processHost(crashing)
    expect(await other.call('pid', null)).not.toBe(process.pid)
    expect(host.isolation).toBe('process')
    const channel = new OutputChannel({ highWaterMark: 1000 })
    expect(await host.call('count', { n: 200 }, channel)).toEqual({ counted: 200 })
    expect(channel.buffered).toBe(200)
    channel.end()
    expect(texts(await drain(channel))).toEqual(Array.from({ length: 200 }, (_, i) => String(i)))
  })

  test('typed arrays keep their types both ways (embeddings are Float32Array)', async () => {
    const other = processHost(crashing)
    const channel = new OutputChannel()
    const value = await other.call<{ floats: boolean; bytes: boolean }>('echoTyped', { floats: new Float32Array([0.5, -1]), bytes: new Uint8Array([7]) }, channel)
    expect(value).toMatchObject({ floats: true, bytes: true })
    const [chunk] = (await channel.take())!
    expect(chunk!.type).toBe('embedding')
    expect((chunk as { embedding: unknown }).embedding).toEqual(new Float32Array([0.5, -1]))
  })

  test('typed errors keep their status and fields; a plain Error is a 502', async () => {
    const bad = await host.call('badRequest', {}).catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(BadRequestError)
    expect(bad).toMatchObject({ status: 400, param: 'messages', code: 'context_length_exceeded' })
    const plain = await host.call('plainError', {}).catch((e: unknown) => e)
    expect(plain).toBeInstanceOf(ProviderError)
    expect(plain).toMatchObject({ status: 502, message: 'CUDA error: device lost' })
    expect(await host.call('count', { n: 1 })).toEqual({ counted: 1 })
  })

  test('an abort reaches the child as a message: its signal fires and its own flag is set', async () => {
    const other = processHost(crashing)
    const channel = new OutputChannel()
    const call = other.call('waitForCancel', {}, channel)
    await other.call('pid', null)
    channel.abort(new CancelledError('client left'))
    expect(await call).toEqual({ status: 499, flag: 1 })
  })

  test('a SIGTERM or SIGINT sent to the engine process (as a process-group signal is) leaves it to the server', async () => {
    const other = processHost(crashing)
    const pid = await other.call<number>('pid', null)
    process.kill(pid, 'SIGTERM')
    process.kill(pid, 'SIGINT')
    // The signals are handled (ignored) by then: the same process still answers.
    expect(await other.call('pid', null)).toBe(pid)
    expect(await other.call('pid', null)).toBe(pid)
  })

  test('a call whose output is already aborted sees the cancel (the call goes before its cancel)', async () => {
    const other = processHost(crashing)
    const channel = new OutputChannel()
    channel.abort(new CancelledError('gone before it started'))
    expect(await other.call('waitForCancel', {}, channel)).toEqual({ status: 499, flag: 1 })
  })

  test('with a reader that does not take, the child stops after about the credit window; reading resumes it', () => expectCreditBound(host))

  test('the credit one message of chunks earns goes back as one message, not one per CREDIT_BATCH', async () => {
    const other = processHost()
    const credits: HostMessage[] = []
    const post = other.transport.post.bind(other.transport)
    // Watching what the host sends its transport: the messages themselves are what is under test.
    other.transport.post = (message, transfer) => {
      if (message.kind === 'credit') credits.push(message)
      post(message, transfer)
    }
    const channel = new OutputChannel({ highWaterMark: 1000 })
    expect(await other.call('countBatched', { n: 3 * CREDIT_BATCH }, channel)).toEqual({ counted: 3 * CREDIT_BATCH })
    expect(credits).toEqual([{ kind: 'credit', ids: [expect.any(Number)], n: [3 * CREDIT_BATCH] }])
    channel.end()
    expect(texts(await drain(channel))).toEqual(Array.from({ length: 3 * CREDIT_BATCH }, (_, i) => String(i)))
  })

  test('terminate() kills the child: calls in flight and later fail with CancelledError', async () => {
    const doomed = processHost()
    const channel = new OutputChannel()
    const call = doomed.call('flood', { n: 1_000_000 }, channel)
    await channel.take()
    doomed.terminate()
    const error = await call.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CancelledError)
    expect((error as Error).message).toContain("Engine process 'test:process' was stopped")
    await expect(doomed.call('count', { n: 1 })).rejects.toBeInstanceOf(CancelledError)
  })
})
