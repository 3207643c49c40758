import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { decodeSpeech } from '../support/decode-speech.ts'
import { probeHealth } from '../support/health-probe.ts'
import { assertMatchesEvent } from '../support/openapi-validator.ts'
import { recordingClient, sseFrames } from '../support/recording-client.ts'
import { readUntil, startServerProcess, type ServerProcess } from '../support/server-process.ts'
import { PIPER_SPEAKERS } from '../fixtures/tts/tiny-piper.ts'
import { tinyKokoroFixture, tinyPiperFixture } from '../fixtures/tts/tts-fixtures.ts'
import { LONG_SPEECH, SPEECH_PARAGRAPH } from './tts-conformance-target.ts'

// `bun run apps/server` as a user starts it, with a models folder holding a 3-speaker Piper voice (its .onnx and
// .onnx.json) and a Kokoro model (its .onnx, sherpa-onnx's voices.bin and kokoro's config.json), each claimed by
// the tts adapter from the files alone, each in its engine process.
const PIPER_RATE = 22_050
const KOKORO_RATE = 24_000
const piper = tinyPiperFixture({ speakers: 3, variant: 'random' })
const kokoro = tinyKokoroFixture({ variant: 'random' })
const PIPER = basename(piper.model, '.onnx')
const KOKORO = 'kokoro'
const SPEAKERS = Object.keys(PIPER_SPEAKERS)

let workdir: string
let server: ServerProcess
let url: string

const post = (body: Record<string, unknown>, signal?: AbortSignal) =>
  fetch(`${url}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) })
/** About 4000 characters at a quarter speed (four times the samples), in SSE events: dozens of model runs, each pushed as it is made. */
const speakLong = (signal?: AbortSignal) => post({ model: PIPER, voice: 'kai', input: LONG_SPEECH, speed: 0.25, response_format: 'wav', stream_format: 'sse' }, signal)

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'cy-tts-server-'))
  const models = join(workdir, 'models')
  await mkdir(models)
  await copyFile(piper.model, join(models, basename(piper.model)))
  await copyFile(piper.config, join(models, basename(piper.config)))
  await copyFile(kokoro.model, join(models, `${KOKORO}.onnx`))
  await copyFile(kokoro.voicesBin, join(models, 'voices.bin'))
  await copyFile(kokoro.config, join(models, 'config.json'))
  await writeFile(join(workdir, 'cy.yaml'), ['server:', '  modelsDir: models', 'adapters:', '  tts: { threads: 1 }'].join('\n'))
  server = await startServerProcess(workdir, ['--config', 'cy.yaml', '--responses-db', ':memory:'])
  url = server.url
  for (const model of [PIPER, KOKORO]) await server.logged(`model '${model}' ready`, `model '${model}' was not loaded`)
}, 600_000)

afterAll(async () => {
  await server?.stop()
  await rm(workdir, { recursive: true, force: true })
})

describe('Piper and Kokoro voices served by the server app from a models folder, through the openai SDK', () => {
  test('the voice and the Kokoro model are claimed by the tts adapter; their voices files are no models of their own', async () => {
    const { data } = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string; cy: { adapter: string; capabilities: string[]; state: string } }> }
    const tts = data.filter((model) => model.cy.adapter === 'tts').map((model) => model.id)
    expect(tts.sort()).toEqual([KOKORO, PIPER].sort())
    for (const id of tts) expect(data.find((model) => model.id === id)!.cy).toMatchObject({ state: 'ready', capabilities: ['tts'] })
    expect(data.map((model) => model.id)).not.toContain('voices')
  })

  test('GET /v1/audio/voices lists every voice with its language and model: the Piper speakers and the Kokoro voices', async () => {
    const { voices } = (await (await fetch(`${url}/v1/audio/voices`)).json()) as { voices: Array<{ id: string; name: string; language: string; model: string }> }
    expect(voices.filter((voice) => voice.model === PIPER)).toEqual(SPEAKERS.map((id) => ({ id, name: id, language: 'en-us', model: PIPER })))
    expect(voices.filter((voice) => voice.model === KOKORO).map((voice) => voice.id)).toEqual([...kokoro.voiceNames])
    expect(voices.find((voice) => voice.id === 'bf_emma')).toMatchObject({ language: 'en-gb', model: KOKORO })
    const one = (await (await fetch(`${url}/v1/audio/voices?model=${KOKORO}`)).json()) as { voices: Array<{ model: string }> }
    expect(one.voices.every((voice) => voice.model === KOKORO)).toBe(true)
    const details = (await (await fetch(`${url}/v1/models/${PIPER}`)).json()) as { cy: { voices: Array<{ id: string }> } }
    expect(details.cy.voices.map((voice) => voice.id)).toEqual(SPEAKERS)
  })

  test('every response_format decodes back with ffmpeg to the speech’s duration, at the model’s rate (pcm at 24 kHz, as OpenAI’s)', async () => {
    const { client } = recordingClient(url)
    const speak = async (model: string, voice: string, format: 'mp3' | 'opus' | 'aac' | 'flac' | 'wav' | 'pcm') => {
      const response = await client.audio.speech.create({ model, voice, input: SPEECH_PARAGRAPH, response_format: format }).asResponse()
      expect(response.status).toBe(200)
      const rate = format === 'pcm' ? Number(response.headers.get('x-sample-rate')) : undefined
      return { type: response.headers.get('content-type'), rate, ...(await decodeSpeech(new Uint8Array(await response.arrayBuffer()), format, rate)) }
    }
    for (const [model, voice, modelRate] of [[PIPER, 'ivy', PIPER_RATE], [KOKORO, 'af_sky', KOKORO_RATE]] as const) {
      // WAV is written in-process from the engine's samples: the exact length, to compare the encoded ones with.
      const wav = await speak(model, voice, 'wav')
      expect(wav).toMatchObject({ type: 'audio/wav', sampleRate: modelRate, channels: 1 })
      expect(wav.seconds).toBeGreaterThan(3)
      const expected = { mp3: ['audio/mpeg', modelRate], opus: ['audio/ogg', 48_000], aac: ['audio/aac', modelRate], flac: ['audio/flac', modelRate], pcm: ['audio/pcm', 24_000] } as const
      for (const [format, [type, rate]] of Object.entries(expected) as Array<[keyof typeof expected, readonly [string, number]]>) {
        const decoded = await speak(model, voice, format)
        expect(decoded, `${model} ${format}`).toMatchObject({ type, sampleRate: rate, channels: 1 })
        if (format === 'pcm') expect(decoded.rate).toBe(24_000)
        // Lossy codecs add their encoder delay and pad the last frame: mp3 up to 1152 + 529 samples, AAC 1024 of
        // priming plus a frame, Opus 20 ms frames; 0.15 s covers each at these rates, and a lost or doubled
        // sentence (≥ 0.3 s here) is far outside it.
        expect(Math.abs(decoded.seconds - wav.seconds), `${model} ${format}: ${decoded.seconds} s, wav ${wav.seconds} s`).toBeLessThan(0.15)
      }
    }
  }, 120_000)

  test('stream_format sse: speech.audio.delta events then speech.audio.done with usage, valid against the spec, holding the wav’s audio', async () => {
    const { client, last } = recordingClient(url)
    const body = { model: PIPER, voice: 'nora', input: SPEECH_PARAGRAPH, response_format: 'pcm' as const, sample_rate: PIPER_RATE }
    const plain = new Uint8Array(await (await client.audio.speech.create(body as never)).arrayBuffer())
    const response = await client.audio.speech.create({ ...body, stream_format: 'sse' } as never)
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    await response.arrayBuffer()
    const frames = sseFrames((await last()).text) as Array<{ type: string; audio?: string; usage?: { input_tokens: number; output_tokens: number; total_tokens: number } }>
    for (const frame of frames) assertMatchesEvent('CreateSpeechResponseStreamEvent', frame)
    // A delta a model run: the first clause alone (here the whole first sentence), then a sentence a run.
    expect(frames.slice(0, -1).every((frame) => frame.type === 'speech.audio.delta')).toBe(true)
    expect(frames.length - 1).toBe(4)
    const done = frames.at(-1)!
    expect(done.type).toBe('speech.audio.done')
    expect(done.usage!.input_tokens).toBeGreaterThan(0)
    expect(done.usage!.total_tokens).toBe(done.usage!.input_tokens + done.usage!.output_tokens)
    // The tiny random voice has no noise source: the streamed audio is the plain answer's, byte for byte.
    const audio = Buffer.concat(frames.slice(0, -1).map((frame) => Buffer.from(frame.audio!, 'base64')))
    expect(audio.equals(Buffer.from(plain))).toBe(true)
  })

  test('speed 2 halves the duration, speed 0.5 doubles it (Piper and Kokoro)', async () => {
    const { client } = recordingClient(url)
    const seconds = async (model: string, voice: string, speed: number) => {
      const response = await client.audio.speech.create({ model, voice, input: SPEECH_PARAGRAPH, response_format: 'wav', speed })
      return (await decodeSpeech(new Uint8Array(await response.arrayBuffer()), 'wav')).seconds
    }
    for (const [model, voice] of [[PIPER, 'kai'], [KOKORO, 'am_adam']] as const) {
      const normal = await seconds(model, voice, 1)
      // Each run's length is ⌊ids · samples_per_id / speed⌋ and each pause is rounded to a sample: a few samples
      // off exactly half over the paragraph's runs, so 1 % is ample, and a speed that were ignored (ratio 1) or
      // applied to the speech but not the pauses (about 0.56: 0.75 s of the Piper paragraph’s 6.1 s are pauses) is well outside it.
      expect((await seconds(model, voice, 2)) / normal, model).toBeCloseTo(0.5, 2)
      expect((await seconds(model, voice, 0.5)) / normal, model).toBeCloseTo(2, 1)
    }
  })

  test('an unknown voice is a 400 on voice that lists the model’s voices; OpenAI’s names map to a voice of the model', async () => {
    const response = await post({ model: PIPER, voice: 'nobody', input: 'Hello.' })
    expect(response.status).toBe(400)
    const { error } = (await response.json()) as { error: { message: string; param: string; type: string } }
    expect(error).toMatchObject({ param: 'voice', type: 'invalid_request_error' })
    for (const speaker of SPEAKERS) expect(error.message).toContain(speaker)
    const kokoroResponse = await post({ model: KOKORO, voice: 'af_bella(2)+af_nobody(1)', input: 'Hello.' })
    expect(kokoroResponse.status).toBe(400)
    const kokoroError = ((await kokoroResponse.json()) as { error: { message: string; param: string } }).error
    expect(kokoroError.param).toBe('voice')
    for (const voice of kokoro.voiceNames) expect(kokoroError.message).toContain(voice)
    const { client } = recordingClient(url)
    const alloy = await client.audio.speech.create({ model: PIPER, voice: 'alloy', input: 'Hello.', response_format: 'wav' })
    expect((await alloy.arrayBuffer()).byteLength).toBeGreaterThan(44)
  })

  test('instructions are accepted and not applied, with a Warning header saying so', async () => {
    const { client } = recordingClient(url)
    for (const model of [PIPER, KOKORO]) {
      const voice = model === PIPER ? 'kai' : 'af_bella'
      const response = await client.audio.speech.create({ model, voice, input: 'Hello.', response_format: 'wav', instructions: 'Speak cheerfully.' }).asResponse()
      expect(response.status).toBe(200)
      expect(response.headers.get('warning'), model).toContain('instructions')
      const plain = await client.audio.speech.create({ model, voice, input: 'Hello.', response_format: 'wav' }).asResponse()
      expect(plain.headers.get('warning')).toBeNull()
    }
  })

  test('/health answers within 50 ms, every time, during a long synthesis', async () => {
    const reader = (await speakLong()).body!.getReader()
    await readUntil(reader, (text) => text.includes('speech.audio.delta'))
    const { times, active } = await probeHealth(url)
    // Every answer came while the synthesis was still going: its end had not been sent yet.
    expect(await readUntil(reader, (text) => text.includes('speech.audio.done'))).toContain('speech.audio.done')
    expect(active).toBe(1)
    expect(Math.max(...times), `/health while speaking: ${times.map((t) => t.toFixed(1)).join(', ')} ms`).toBeLessThan(50)
  }, 60_000)

  test('a client that leaves mid-synthesis stops it: the next request runs at once, well before the whole synthesis would end', async () => {
    /** Milliseconds from sending the long request until the next (short) one is answered, leaving after the first delta or not. */
    const untilNextAnswered = async (leave: boolean) => {
      const controller = new AbortController()
      const started = performance.now()
      const reader = (await speakLong(controller.signal)).body!.getReader()
      if (leave) {
        await readUntil(reader, (text) => text.includes('speech.audio.delta'))
        controller.abort()
        await reader.cancel().catch(() => {})
      } else {
        await readUntil(reader, (text) => text.includes('speech.audio.done'))
      }
      // One run at a time per model: this waits for whatever the model is still doing.
      const next = await post({ model: PIPER, voice: 'kai', input: 'Hello there.', response_format: 'wav' })
      expect(next.status).toBe(200)
      expect((await next.arrayBuffer()).byteLength).toBeGreaterThan(44)
      return performance.now() - started
    }
    const stayed = await untilNextAnswered(false)
    const left = await untilNextAnswered(true)
    expect(left, `answered ${left.toFixed(0)} ms after a client that left, ${stayed.toFixed(0)} ms after one that stayed`).toBeLessThan(stayed / 2)
  }, 60_000)
})
