// An engine process that dies (here: process.abort() on a magic prompt, as a GGML_ASSERT would) fails only
// its own requests with a 502, the other models keep serving, and it is restarted; a crash loop ends failed.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { OutputChannel, ProviderError, ServiceUnavailableError, type EngineStatus } from '@cy/core'
import type { Server } from '@cy/http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCrashingModel } from '../fixtures/crashing-engine/crashing-model.ts'
import { MAGIC_PROMPT } from '../fixtures/crashing-engine/crashing-worker.ts'
import { sseFrames } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

type Loaded = Awaited<ReturnType<typeof loadCrashingModel>>

/** Resolves with the statuses seen once `last` is reported. */
function statusesUntil(model: Loaded, last: EngineStatus['state']): Promise<EngineStatus[]> {
  const seen: EngineStatus[] = []
  return new Promise((resolve) => {
    const stop = model.onStatus!((status) => {
      seen.push(status)
      if (status.state === last) {
        stop()
        resolve(seen)
      }
    })
  })
}

const chat = (url: string, model: string, content: string, stream = false) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content }] }),
  })

const answer = async (response: Response) => ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content

describe('an engine process that crashes', () => {
  let server: Server
  let crashy: Loaded
  let steady: Loaded

  beforeAll(async () => {
    crashy = await loadCrashingModel({ name: 'crashy', restart: { backoffMs: 20 } })
    // Slow enough that its stream is still in flight while the other model crashes.
    steady = await loadCrashingModel({ name: 'steady', stepMs: 20 })
    server = await startTestServer({}, (s) => {
      s.registerModel('crashy', crashy.providers)
      s.registerModel('steady', steady.providers)
    })
  })
  afterAll(async () => {
    await server?.stop()
    crashy?.dispose()
    steady?.dispose()
  })

  test('the magic prompt fails its stream with an error event, the other model serves throughout, and the engine comes back', async () => {
    const pidBefore = await crashy.host.call('pid', null)
    expect(await answer(await chat(server.url, 'crashy', 'hello there'))).toBe('hello there')
    const statuses = statusesUntil(crashy, 'ready')
    // The steady model's stream runs across the crash.
    const steadyStream = chat(server.url, 'steady', 'a b c d e f g h i j', true).then((r) => r.text())

    const crashed = await chat(server.url, 'crashy', MAGIC_PROMPT, true)
    expect(crashed.status).toBe(200)
    const frames = sseFrames(await crashed.text()) as Array<Record<string, unknown>>
    // The first token went out before the abort; the stream ends with one error event, and no [DONE].
    expect(JSON.stringify(frames[0])).toContain('please')
    const error = frames.at(-1) as { error: { type: string; message: string } }
    expect(error.error.type).toBe('upstream_error')
    expect(error.error.message).toBe("Engine process 'crashing:crashy' exited (signal SIGABRT)")
    expect(JSON.stringify(error)).not.toContain(' at ')

    // A request made while it restarts waits for it and succeeds.
    expect(await answer(await chat(server.url, 'crashy', 'after the crash'))).toBe('after the crash')
    expect(await statuses).toEqual([
      { state: 'restarting', reason: "Engine process 'crashing:crashy' exited (signal SIGABRT)", attempt: 1 },
      { state: 'ready' },
    ])
    expect(await crashy.host.call('pid', null)).not.toBe(pidBefore)

    const steadyFrames = sseFrames(await steadyStream) as Array<{ choices?: Array<{ delta: { content?: string } }> }>
    expect(steadyFrames.map((f) => f.choices?.[0]?.delta.content ?? '').join('')).toBe('a b c d e f g h i j')
    expect(await answer(await chat(server.url, 'steady', 'still here'))).toBe('still here')
  })

  test('a non-streaming request to the crashing engine is a clean 502', async () => {
    const response = await chat(server.url, 'crashy', MAGIC_PROMPT)
    expect(response.status).toBe(502)
    const body = (await response.json()) as { error: { type: string; message: string } }
    expect(body.error).toMatchObject({ type: 'upstream_error', message: "Engine process 'crashing:crashy' exited (signal SIGABRT)" })
    expect(await answer(await chat(server.url, 'crashy', 'back again'))).toBe('back again')
  })
})

describe('a crash loop', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cy-crash-loop-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('an engine that crashes on every restart ends failed with the reason, and calls get 503', async () => {
    const marker = join(dir, 'abort-on-load')
    const model = await loadCrashingModel({ name: 'looping', abortOnLoadIf: marker, restart: { backoffMs: 10, maxRestarts: 3 } })
    try {
      const statuses = statusesUntil(model, 'failed')
      // From now on every load aborts the process: the first crash starts a loop of them.
      await writeFile(marker, '')
      const crash = await model.host.call('generate', { prompt: MAGIC_PROMPT }, new OutputChannel()).catch((e: unknown) => e)
      expect(crash).toBeInstanceOf(ProviderError)
      const seen = await statuses
      const reason = "Engine process 'crashing:looping' exited (signal SIGABRT)"
      expect(seen).toEqual([
        { state: 'restarting', reason, attempt: 1 },
        { state: 'restarting', reason, attempt: 2 },
        { state: 'restarting', reason, attempt: 3 },
        { state: 'failed', reason: `${reason}; gave up after 3 restarts within 60 s` },
      ])
      const refused = await model.host.call('pid', null).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(ServiceUnavailableError)
      expect(refused).toMatchObject({ status: 503 })
      expect((refused as Error).message).toContain('gave up after 3 restarts')
    } finally {
      model.dispose()
    }
  })

  test('the same model in worker isolation runs its engine in this process', async () => {
    const model = await loadCrashingModel({ name: 'threaded', isolation: 'worker', restart: { backoffMs: 10 } })
    try {
      expect(model.host.current.isolation).toBe('worker')
      expect(await model.host.call('pid', null)).toBe(process.pid)
    } finally {
      model.dispose()
    }
  })
})
