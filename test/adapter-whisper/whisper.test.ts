import { buildEngine, resolveWhisperLibrary } from '@cy/adapter-whisper'
import createWhisperAdapter from '@cy/adapter-whisper'
import { ffmpegPath } from '@cy/audio'
import type { LoadedModel } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import OpenAI, { toFile } from 'openai'
import { tone, wav } from '../audio/wav-fixtures.ts'
import { writeTinyWhisper } from '../fixtures/whisper/tiny-whisper.ts'
import { assertMatchesSchema } from '../support/openapi-validator.ts'
import { recordingClient } from '../support/recording-client.ts'
import { startTestServer } from '../support/test-server.ts'

let dir: string
let modelPath: string
let wavPath: string
let wavBytes: Uint8Array
let cli: string
let loaded: LoadedModel
let server: Server
let client: OpenAI

/** Two tones, so the audio is not one flat sound. */
function speechLike(): Float32Array {
  const a = tone(440, 16_000, 1.5)
  const b = tone(880, 16_000, 1.5)
  const out = new Float32Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-whisper-'))
  modelPath = await writeTinyWhisper(join(dir, 'ggml-tiny-test.bin'))
  wavBytes = wav(speechLike(), 16_000, 1, 's16')
  wavPath = join(dir, 'clip.wav')
  await writeFile(wavPath, wavBytes)
  // The first run on a machine builds whisper.cpp (a few minutes); later runs find it in the cache.
  const library = await resolveWhisperLibrary(undefined)
  cli = join(dirname(library.libDir), 'bin', 'whisper-cli')
  if (!(await Bun.file(cli).exists())) cli = join(dirname(await buildEngine({ backend: 'cpu' })), 'bin', 'whisper-cli')
  loaded = await createWhisperAdapter({ quiet: true }).load({
    name: 'tiny-whisper',
    adapter: 'whisper',
    path: modelPath,
    options: { threads: 2, parallel: 2, fallback: false },
  })
  server = await startTestServer({}, (s) => s.registerModel('tiny-whisper', loaded.providers))
  client = recordingClient(server.url).client
}, 900_000)
afterAll(async () => {
  await server?.stop()
  await loaded?.dispose()
  await rm(dir, { recursive: true, force: true })
})

/** What whisper.cpp's own CLI prints for the same model, audio and options (greedy, no fallback), timestamps stripped. */
async function cliTranscript(audioPath: string, extra: string[] = []): Promise<string> {
  const child = Bun.spawn([cli, '-m', modelPath, '-f', audioPath, '-t', '2', '-l', 'en', '-bs', '1', '-bo', '1', '-nf', '-np', ...extra], { stdout: 'pipe', stderr: 'pipe' })
  const [code, stdout] = await Promise.all([child.exited, new Response(child.stdout).text()])
  if (code !== 0) throw new Error(`whisper-cli failed (${code}): ${await new Response(child.stderr).text()}`)
  return stdout
    .split('\n')
    .map((line) => line.replace(/^\[[^\]]*\]/, '').trim())
    .join('')
}

const audio = () => toFile(wavBytes, 'clip.wav', { type: 'audio/wav' })

describe('whisper.cpp through the adapter', () => {
  test('the transcript equals what whisper-cli prints for the same model, audio and options', async () => {
    const result = await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await audio(), language: 'en' })
    expect(result.text.trim().length).toBeGreaterThan(0)
    expect(result.text.replace(/\s+/g, '')).toBe((await cliTranscript(wavPath)).replace(/\s+/g, ''))
  })

  test('verbose_json: language, duration, segments in order; words when asked', async () => {
    const { client: recording, last } = recordingClient(server.url)
    const result = await recording.audio.transcriptions.create({
      model: 'tiny-whisper',
      file: await audio(),
      language: 'en',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    })
    assertMatchesSchema('CreateTranscriptionResponseVerboseJson', JSON.parse((await last()).text))
    expect(result.language).toBe('en')
    expect(result.duration).toBeCloseTo(3, 2)
    expect(result.segments!.length).toBeGreaterThan(0)
    let previous = 0
    for (const segment of result.segments!) {
      expect(segment.start).toBeGreaterThanOrEqual(previous)
      expect(segment.end).toBeGreaterThanOrEqual(segment.start)
      expect(segment.tokens.length).toBeGreaterThan(0)
      previous = segment.start
    }
    expect(result.words!.length).toBeGreaterThan(0)
    for (const word of result.words!) expect(word.end).toBeGreaterThanOrEqual(word.start)
  })

  test('srt and vtt: well-formed, monotonic timestamps', async () => {
    const stamp = /^(\d\d):(\d\d):(\d\d)[,.](\d\d\d) --> (\d\d):(\d\d):(\d\d)[,.](\d\d\d)$/
    for (const format of ['srt', 'vtt'] as const) {
      const text = String(await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await audio(), language: 'en', response_format: format }))
      const times = text
        .split('\n')
        .filter((line) => line.includes('-->'))
        .map((line) => {
          const m = stamp.exec(line.trim())
          expect(m).not.toBeNull()
          const seconds = (h: string, mi: string, s: string, ms: string) => Number(h) * 3600 + Number(mi) * 60 + Number(s) + Number(ms) / 1000
          return [seconds(m![1]!, m![2]!, m![3]!, m![4]!), seconds(m![5]!, m![6]!, m![7]!, m![8]!)] as const
        })
      expect(times.length).toBeGreaterThan(0)
      for (let i = 0; i < times.length; i++) {
        expect(times[i]![1]).toBeGreaterThanOrEqual(times[i]![0])
        if (i > 0) expect(times[i]![0]).toBeGreaterThanOrEqual(times[i - 1]![0])
      }
      if (format === 'vtt') expect(text.startsWith('WEBVTT')).toBe(true)
    }
  })

  // Lossless containers only: a random-weight model answers a lossy codec's slightly different samples differently.
  for (const [name, args, file] of [
    ['FLAC', ['-f', 'flac'], 'clip.flac'],
    ['Ogg (FLAC inside)', ['-c:a', 'flac', '-f', 'ogg'], 'clip.ogg'],
  ] as const) {
    test(`the same audio as WAV and as ${name} (through ffmpeg) gives the same text`, async () => {
      const child = Bun.spawn([ffmpegPath()!, '-hide_banner', '-loglevel', 'error', '-i', wavPath, ...args, 'pipe:1'], { stdout: 'pipe' })
      const encoded = new Uint8Array(await new Response(child.stdout).arrayBuffer())
      const fromEncoded = await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await toFile(encoded, file), language: 'en' })
      const fromWav = await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await audio(), language: 'en' })
      expect(fromEncoded.text).toBe(fromWav.text)
    })
  }

  test('mp3 is read through ffmpeg and transcribed', async () => {
    const child = Bun.spawn([ffmpegPath()!, '-hide_banner', '-loglevel', 'error', '-i', wavPath, '-f', 'mp3', 'pipe:1'], { stdout: 'pipe' })
    const mp3 = new Uint8Array(await new Response(child.stdout).arrayBuffer())
    const result = await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await toFile(mp3, 'clip.mp3'), language: 'en', response_format: 'verbose_json' })
    expect(result.duration).toBeGreaterThan(2.9)
    expect(result.text.length).toBeGreaterThan(0)
  })

  test('stream=true: transcript.text.delta events as segments are decoded, then transcript.text.done', async () => {
    const whole = await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await audio(), language: 'en' })
    const stream = await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await audio(), language: 'en', stream: true })
    const events = []
    for await (const event of stream) events.push(event)
    expect(events.at(-1)?.type).toBe('transcript.text.done')
    const deltas = events.filter((e) => e.type === 'transcript.text.delta').map((e) => (e as { delta: string }).delta)
    expect(deltas.length).toBeGreaterThan(0)
    expect(deltas.join('')).toBe(whole.text)
    expect((events.at(-1) as { text: string }).text).toBe(whole.text)
  })

  test('translations run the translate task and answer in the same shape', async () => {
    const { client: recording, last } = recordingClient(server.url)
    const result = await recording.audio.translations.create({ model: 'tiny-whisper', file: await audio() })
    expect(typeof result.text).toBe('string')
    assertMatchesSchema('CreateTranslationResponseJson', JSON.parse((await last()).text))
  })

  test('requests decode at once on the pool (parallel 2) and each gets its own transcript', async () => {
    const other = wav(tone(660, 16_000, 2), 16_000, 1, 's16')
    const alone = [
      (await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await audio(), language: 'en' })).text,
      (await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await toFile(other, 'other.wav'), language: 'en' })).text,
    ]
    const together = await Promise.all([
      client.audio.transcriptions.create({ model: 'tiny-whisper', file: await audio(), language: 'en' }),
      client.audio.transcriptions.create({ model: 'tiny-whisper', file: await toFile(other, 'other.wav'), language: 'en' }),
    ])
    expect(together.map((r) => r.text)).toEqual(alone)
    expect(alone[0]).not.toBe(alone[1])
  })

  test('a file over the model’s size limit is a 413', async () => {
    const small = await createWhisperAdapter({ quiet: true }).load({ name: 'small', adapter: 'whisper', path: modelPath, options: { threads: 1, parallel: 1, maxBytes: 1000 } })
    const limited = await startTestServer({}, (s) => s.registerModel('small', small.providers))
    try {
      const error = await recordingClient(limited.url).client.audio.transcriptions.create({ model: 'small', file: await audio() }).catch((e: unknown) => e)
      expect((error as { status?: number }).status).toBe(413)
      expect((error as { param?: string }).param).toBe('file')
    } finally {
      await limited.stop()
      await small.dispose()
    }
  })

  test('the event loop keeps serving while a long upload is decoded: /health answers within 50 ms', async () => {
    // Three minutes of 44.1 kHz stereo (32 MB): parsed and resampled in the engine's Worker, not here.
    const long = wav(tone(440, 44_100, 180, 2), 44_100, 2, 's16')
    const form = new FormData()
    form.set('model', 'tiny-whisper')
    form.set('language', 'en')
    form.set('file', new File([long as Uint8Array<ArrayBuffer>], 'long.wav', { type: 'audio/wav' }))
    form.set('stream', 'true')
    // The first event comes once the audio is decoded and its first window transcribed; then the client leaves.
    const leave = new AbortController()
    let firstEvent = false
    const streaming = (async () => {
      const response = await fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form, signal: leave.signal })
      expect(response.status).toBe(200)
      // Keep-alive comments may come first (a stream whose model is silent past the grace period sends them).
      const reader = response.body!.getReader()
      const decoder = new TextDecoder()
      let text = ''
      while (!text.includes('transcript.text.delta')) {
        const read = await reader.read()
        if (read.done) break
        text += decoder.decode(read.value)
      }
      expect(text).toContain('transcript.text.delta')
      firstEvent = true
    })()
    const latencies: number[] = []
    while (!firstEvent) {
      const started = performance.now()
      expect((await fetch(`${server.url}/health`)).status).toBe(200)
      latencies.push(performance.now() - started)
    }
    await streaming
    leave.abort()
    expect(latencies.length).toBeGreaterThan(10)
    expect(Math.max(...latencies)).toBeLessThan(50)
  }, 120_000)

  test('a malformed WAV through the route is a 400 naming file (0 bits per sample, cut at 30 bytes), not a 502', async () => {
    const zeroBits = wav(tone(440, 16_000, 0.5), 16_000, 1, 's16')
    new DataView(zeroBits.buffer).setUint16(34, 0, true)
    for (const bytes of [zeroBits, wavBytes.slice(0, 30)]) {
      const error = await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await toFile(bytes, 'bad.wav') }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect((error as { param?: string }).param).toBe('file')
    }
  })

  test('a 1 MB prompt keeps its tail, as whisper and OpenAI do: the same transcript as its last words alone, promptly', async () => {
    const huge = ' x'.repeat(500_000)
    const tail = ' x'.repeat(1_000)
    const started = performance.now()
    const withHuge = await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await audio(), language: 'en', prompt: huge })
    expect(performance.now() - started).toBeLessThan(20_000)
    const withTail = await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await audio(), language: 'en', prompt: tail })
    expect(withHuge.text).toBe(withTail.text)
  })

  test('bad audio: empty, not audio, an unknown language: clear 400s', async () => {
    const empty = await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await toFile(new Uint8Array(), 'x.wav') }).catch((e: unknown) => e)
    expect(empty).toBeInstanceOf(OpenAI.BadRequestError)
    const text = await client.audio.transcriptions
      .create({ model: 'tiny-whisper', file: await toFile(new TextEncoder().encode('not audio at all, just words'), 'x.mp3') })
      .catch((e: unknown) => e)
    expect(text).toBeInstanceOf(OpenAI.BadRequestError)
    expect((text as { param?: string }).param).toBe('file')
    const language = await client.audio.transcriptions.create({ model: 'tiny-whisper', file: await audio(), language: 'klingon' }).catch((e: unknown) => e)
    expect(language).toBeInstanceOf(OpenAI.BadRequestError)
    expect((language as { param?: string }).param).toBe('language')
  })
})
