import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toFile } from 'openai'
import { tone, wav } from '../audio/wav-fixtures.ts'
import { tinySenseVoiceFixture } from '../fixtures/sensevoice/sensevoice-fixtures.ts'
import { writeTinyWhisper } from '../fixtures/whisper/tiny-whisper.ts'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { probeHealth } from '../support/health-probe.ts'
import { readUntil, startServerProcess, type ServerProcess } from '../support/server-process.ts'
import { scriptedText, tonesAndPauses } from './sensevoice-test-audio.ts'

// `bun run apps/server` as a user starts it: whisper.cpp's tiny model and SenseVoice's (the scripted fixture,
// with its tokens.txt) side by side in one models folder, each claimed by its adapter, each in its engine process;
// one more SenseVoice model named in the config file (`adapter: sensevoice`, `path`).
const WHISPER = 'whisper-1'
const SENSEVOICE = 'sensevoice'

let workdir: string
let server: ServerProcess
let url: string

const clip = wav(tone(440, 16_000, 1), 16_000, 1, 's16')
const file = (bytes: Uint8Array = clip) => toFile(bytes, 'clip.wav', { type: 'audio/wav' })
/** Ten minutes of tones and pauses (about 80 segments): a decode that lasts a while. */
const long = () => {
  const piece = tonesAndPauses()
  const samples = new Float32Array(piece.length * 8)
  for (let i = 0; i < 8; i++) samples.set(piece, i * piece.length)
  return wav(samples, 16_000, 1, 's16')
}
const streamLong = (signal?: AbortSignal) => {
  const form = new FormData()
  form.append('model', SENSEVOICE)
  form.append('stream', 'true')
  form.append('file', new File([long() as Uint8Array<ArrayBuffer>], 'long.wav', { type: 'audio/wav' }))
  return fetch(`${url}/v1/audio/transcriptions`, { method: 'POST', body: form, ...(signal ? { signal } : {}) })
}
beforeAll(async () => {
  const fixture = tinySenseVoiceFixture({ variant: 'scripted' })
  workdir = await mkdtemp(join(tmpdir(), 'cy-sensevoice-server-'))
  await mkdir(join(workdir, 'models'))
  await mkdir(join(workdir, 'sv'))
  await writeTinyWhisper(join(workdir, 'models', `${WHISPER}.bin`))
  await copyFile(fixture.model, join(workdir, 'models', `${SENSEVOICE}.onnx`))
  await copyFile(fixture.tokens, join(workdir, 'models', 'tokens.txt'))
  await copyFile(fixture.model, join(workdir, 'sv', 'model.onnx'))
  await copyFile(fixture.tokens, join(workdir, 'sv', 'tokens.txt'))
  await writeFile(
    join(workdir, 'cy.yaml'),
    [
      'server:',
      '  modelsDir: models',
      'adapters:',
      '  whisper: { threads: 1, parallel: 1, fallback: false }',
      '  sensevoice: { threads: 1 }',
      'models:',
      '  - name: sv-config',
      '    adapter: sensevoice',
      '    path: sv/model.onnx',
      '    options: { itn: false }',
    ].join('\n'),
  )
  server = await startServerProcess(workdir, ['--config', 'cy.yaml', '--responses-db', ':memory:'])
  url = server.url
  for (const model of [WHISPER, SENSEVOICE, 'sv-config']) await server.logged(`model '${model}' ready`, `model '${model}' was not loaded`)
}, 600_000)

afterAll(async () => {
  await server?.stop()
  await rm(workdir, { recursive: true, force: true })
})

describe('whisper-1 and sensevoice served side by side by one server app, through the openai SDK', () => {
  test('each model file is claimed by its own adapter; the config names a third', async () => {
    const { data } = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string; cy: { adapter: string; capabilities: string[]; state: string } }> }
    const adapters = Object.fromEntries(data.map((model) => [model.id, model.cy.adapter]))
    expect(adapters).toMatchObject({ [WHISPER]: 'whisper', [SENSEVOICE]: 'sensevoice', 'sv-config': 'sensevoice' })
    expect(data.find((model) => model.id === SENSEVOICE)!.cy).toMatchObject({ state: 'ready', capabilities: ['asr'] })
    // tokens.txt beside the model is no model of its own.
    expect(data.map((model) => model.id)).not.toContain('tokens')
  })

  test('each answers only for its model: sensevoice with its tags, whisper-1 with whisper’s transcript and none', async () => {
    const { client, last } = recordingClient(url)
    const sensevoice = await client.audio.transcriptions.create({ model: SENSEVOICE, file: await file() })
    const body = JSON.parse((await last()).text)
    assertMatchesSchema('CreateTranscriptionResponseJson', body)
    expect(body).toEqual({ text: scriptedText(1), language: 'en', emotion: 'happy', audio_events: ['Laughter'] })
    expect(sensevoice.text).toBe(scriptedText(1))
    const whisper = await client.audio.transcriptions.create({ model: WHISPER, file: await file(), language: 'en' })
    const whisperBody = JSON.parse((await last()).text)
    assertMatchesSchema('CreateTranscriptionResponseJson', whisperBody)
    expect(whisperBody.emotion).toBeUndefined()
    expect(whisper.text).not.toBe(sensevoice.text)
    // The model named in the config, with its own options (no ITN).
    const configured = await client.audio.transcriptions.create({ model: 'sv-config', file: await file() })
    expect(configured.text).toBe(scriptedText(1, false))
  })

  test('verbose_json: segments with emotion and event, words when asked, raw_text when included, valid against the spec', async () => {
    const { client, last } = recordingClient(url)
    const verbose = await client.audio.transcriptions.create({
      model: SENSEVOICE,
      file: await file(),
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
      include: ['raw_text'] as never,
    })
    const body = JSON.parse((await last()).text)
    assertMatchesSchema('CreateTranscriptionResponseVerboseJson', body)
    expect(body).toMatchObject({ task: 'transcribe', language: 'en', duration: 1, emotion: 'happy', audio_events: ['Laughter'], raw_text: `<|en|><|HAPPY|><|Laughter|><|withitn|>${scriptedText(1)}` })
    expect(verbose.segments).toHaveLength(1)
    expect(body.segments[0]).toMatchObject({ start: 0, end: 1, text: scriptedText(1), emotion: 'happy', event: 'Laughter' })
    // CJK characters are words of their own; the others are split at spaces.
    expect(verbose.words!.map((w) => w.word)).toEqual(['世', '界', ...scriptedText(1).slice(2).trim().split(' ')])
    for (let i = 1; i < verbose.words!.length; i++) expect(verbose.words![i]!.start).toBeGreaterThanOrEqual(verbose.words![i - 1]!.start)
    // text_norm chooses: no punctuation or digits.
    const plain = await client.audio.transcriptions.create({ model: SENSEVOICE, file: await file(), ...({ text_norm: 'without_itn' } as object) })
    expect(plain.text).toBe(scriptedText(1, false))
  })

  test('text, srt and vtt', async () => {
    const { client } = recordingClient(url)
    const text = String(await client.audio.transcriptions.create({ model: SENSEVOICE, file: await file(), response_format: 'text' }))
    expect(text.trim()).toBe(scriptedText(1))
    const srt = String(await client.audio.transcriptions.create({ model: SENSEVOICE, file: await file(), response_format: 'srt' }))
    expect(srt).toBe(`1\n00:00:00,000 --> 00:00:01,000\n${scriptedText(1)}\n`)
    const vtt = String(await client.audio.transcriptions.create({ model: SENSEVOICE, file: await file(), response_format: 'vtt' }))
    expect(vtt).toBe(`WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n${scriptedText(1)}\n`)
  })

  test('stream: a transcript.text.delta per segment, then transcript.text.done, valid against the spec', async () => {
    const { client, last } = recordingClient(url)
    const stream = await client.audio.transcriptions.create({ model: SENSEVOICE, file: await file(wav(tonesAndPauses(), 16_000, 1, 's16')), stream: true })
    const deltas: string[] = []
    let done = ''
    for await (const event of stream) {
      if (event.type === 'transcript.text.delta') deltas.push(event.delta)
      else if (event.type === 'transcript.text.done') done = event.text
    }
    expect(deltas).toHaveLength(8)
    expect(deltas.join('')).toBe(done)
    const frames = sseFrames((await last()).text) as Array<{ type: string }>
    for (const frame of frames) assertMatchesSchema(frame.type === 'transcript.text.delta' ? 'TranscriptTextDeltaEvent' : 'TranscriptTextDoneEvent', frame)
  })

  test('bad requests are 400s in OpenAI’s shape: a language it does not know, a translation, prompt', async () => {
    const post = async (fields: Record<string, string>, route = 'transcriptions') => {
      const form = new FormData()
      form.append('model', SENSEVOICE)
      for (const [key, value] of Object.entries(fields)) form.append(key, value)
      form.append('file', new File([clip as Uint8Array<ArrayBuffer>], 'clip.wav', { type: 'audio/wav' }))
      const response = await fetch(`${url}/v1/audio/${route}`, { method: 'POST', body: form })
      return { status: response.status, error: ((await response.json()) as { error: { param: string | null; code: string | null; message: string } }).error }
    }
    expect(await post({ language: 'de' })).toMatchObject({ status: 400, error: { param: 'language' } })
    expect(await post({}, 'translations')).toMatchObject({ status: 400, error: { message: expect.stringContaining('does not translate') } })
    expect(await post({ prompt: 'a prompt' })).toMatchObject({ status: 400, error: { code: 'unsupported_parameter' } })
  })

  test('/health answers within 50 ms, every time, during a long decode', async () => {
    const response = await streamLong()
    const reader = response.body!.getReader()
    await readUntil(reader, (text) => text.includes('transcript.text.delta'))
    const { times, active } = await probeHealth(url)
    const rest = await readUntil(reader, (text) => text.includes('transcript.text.done'))
    expect(active).toBe(1)
    expect(rest).toContain('transcript.text.done')
    expect(Math.max(...times), `/health while decoding: ${times.map((t) => t.toFixed(1)).join(', ')} ms`).toBeLessThan(50)
  }, 60_000)

  test('a client that leaves mid-decode stops it: the model is free again well before the whole decode would end', async () => {
    const started = performance.now()
    const whole = await streamLong()
    await readUntil(whole.body!.getReader(), (text) => text.includes('transcript.text.done'))
    const full = performance.now() - started

    const controller = new AbortController()
    const leaving = await streamLong(controller.signal)
    const reader = leaving.body!.getReader()
    await readUntil(reader, (text) => text.includes('transcript.text.delta'))
    const left = performance.now()
    controller.abort()
    await reader.cancel().catch(() => {})
    const { client } = recordingClient(url)
    // The model runs one request at a time: this one waits until the abandoned decode has stopped.
    expect((await client.audio.transcriptions.create({ model: SENSEVOICE, file: await file() })).text).toBe(scriptedText(1))
    const freed = performance.now() - left
    expect(freed, `freed after ${freed.toFixed(0)} ms; a whole decode takes ${full.toFixed(0)} ms`).toBeLessThan(full / 2)
  }, 60_000)
})
