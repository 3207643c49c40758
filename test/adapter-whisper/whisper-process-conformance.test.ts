import { WhisperModel } from '@cy/adapter-whisper'
import { CancelledError, OutputChannel, type AsrRequest } from '@cy/core'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tone, wav } from '../audio/wav-fixtures.ts'
import { runAdapterConformance } from '../conformance/adapter-conformance.ts'
import { drain } from '../core/process-host-support.ts'
import { writeTinyWhisper } from '../fixtures/whisper/tiny-whisper.ts'
import { whisperConformanceTarget } from './whisper-conformance-target.ts'

// The real whisper.cpp in an engine process of its own (the adapter's default isolation): the process's
// main thread relays to the model's Worker pool, so a client that leaves mid-stream stops the native decode.
runAdapterConformance(whisperConformanceTarget('process'))

describe('whisper in its engine process (the default isolation)', () => {
  let dir: string
  let model: WhisperModel
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cy-whisper-process-'))
    // No isolation option: the default is a process. Two Workers there share one context.
    model = await WhisperModel.load({ name: 'tiny', adapter: 'whisper', path: await writeTinyWhisper(join(dir, 'ggml-tiny.bin')) }, { threads: 1, parallel: 2, fallback: false })
  }, 120_000)
  afterAll(async () => {
    await model?.dispose()
    await rm(dir, { recursive: true, force: true })
  })

  const request = (seconds: number): AsrRequest => ({
    model: 'tiny',
    task: 'transcribe',
    language: 'en',
    stream: true,
    file: { name: 'tone.wav', type: 'audio/wav', bytes: wav(tone(330, 16_000, seconds), 16_000, 1, 's16') },
  })
  const host = () => {
    if (model.engine.kind !== 'process') throw new Error(`the engine runs on ${model.engine.kind}, not in a process`)
    return model.engine.host
  }

  test('the pool runs in another process, and says so', async () => {
    expect(model.loaded().metadata).toMatchObject({ isolation: 'process', parallel: 2 })
    expect((host().current.transport as unknown as { pid: number }).pid).not.toBe(process.pid)
    const channel = new OutputChannel({ highWaterMark: 1000 })
    await model.transcribe(request(3), channel)
    expect((await drain(channel)).some((chunk) => chunk.type === 'transcript-info')).toBe(true)
  })

  test('a cancel crosses the hop while whisper.cpp is in its native call: the decode stops, cancelled', async () => {
    // Five 30-second windows: the first segment comes long before the decode could finish by itself.
    const channel = new OutputChannel({ highWaterMark: 1000 })
    const call = model.transcribe(request(150), channel)
    await channel.take()
    channel.abort(new CancelledError('client left'))
    expect(await call.then(() => 'finished the whole file', (e: unknown) => e)).toBeInstanceOf(CancelledError)
  })

  test('an engine process that dies is restarted and serves again', async () => {
    const statuses: string[] = []
    const ready = new Promise<void>((resolve) =>
      model.loaded().onStatus!((status) => {
        statuses.push(status.state)
        if (status.state === 'ready') resolve()
      }),
    )
    process.kill((host().current.transport as unknown as { pid: number }).pid, 'SIGKILL')
    await ready
    expect(statuses).toEqual(['restarting', 'ready'])
    const channel = new OutputChannel({ highWaterMark: 1000 })
    await model.transcribe(request(3), channel)
    expect((await drain(channel)).some((chunk) => chunk.type === 'transcript-info')).toBe(true)
  })
})
