import createSenseVoiceAdapter, { parseSenseVoiceOptions } from '@cy/adapter-sensevoice'
import { CancelledError, type Isolation, type LoadedModel, type OutputChunk, type TranscriptSegmentChunk } from '@cy/core'
import type { Server } from '@cy/http'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SenseVoiceEngine } from '../../packages/adapter-sensevoice/src/engine/sensevoice-engine.ts'
import type { TranscribeArgs } from '../../packages/adapter-sensevoice/src/engine/transcribe-args.ts'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tone, wav } from '../audio/wav-fixtures.ts'
import { writeOnnxModel } from '../fixtures/onnx/onnx-writer.ts'
import { tinySenseVoiceFixture, type SenseVoiceFixture } from '../fixtures/sensevoice/sensevoice-fixtures.ts'
import { PIECES } from '../fixtures/sensevoice/sensevoice-vocabulary.ts'
import { tinyCmvn, tinySenseVoice, tinySenseVoiceMetadata } from '../fixtures/sensevoice/tiny-sensevoice.ts'
import { recordingWorkerSink as sink } from '../support/recording-worker-sink.ts'
import { startTestServer } from '../support/test-server.ts'
import { scriptedText, tonesAndPauses } from './sensevoice-test-audio.ts'

/** A sentencepiece ModelProto holding only its pieces (field 1, each a message with its piece in field 1). */
function sentencePieceModel(pieces: readonly string[]): Uint8Array {
  const varint = (n: number) => {
    const out: number[] = []
    for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80)
    return [...out, n]
  }
  const field1 = (payload: number[]) => [0x0a, ...varint(payload.length), ...payload]
  return Uint8Array.from(pieces.flatMap((piece) => field1(field1([...new TextEncoder().encode(piece)]))))
}

const segmentsOf = (chunks: OutputChunk[]) => chunks.filter((c): c is TranscriptSegmentChunk => c.type === 'transcript-segment')
const args = (samples: Float32Array, extra: Partial<TranscribeArgs> = {}): TranscribeArgs => ({ samples, language: 'auto', itn: true, wordTimestamps: false, rawText: false, ...extra })

let fixture: SenseVoiceFixture

describe('the SenseVoice engine', () => {
  let engine: SenseVoiceEngine
  let runs = 0
  beforeAll(async () => {
    fixture = tinySenseVoiceFixture({ variant: 'scripted' })
    engine = await SenseVoiceEngine.load({ model: fixture.model, tokens: fixture.tokens, threads: 1, maxSegmentSeconds: 30 })
    // Counts the real session's runs (it still runs).
    const run = engine.session.run.bind(engine.session)
    engine.session.run = ((...a: Parameters<typeof run>) => {
      runs++
      return run(...a)
    }) as typeof run
  })
  afterAll(() => engine?.dispose())

  test('one short clip: one segment with the scripted tags and text, then the info', async () => {
    const out = sink()
    await engine.transcribe(args(tone(440, 16_000, 1), { rawText: true }), out)
    const [segment] = segmentsOf(out.chunks)
    expect(segment).toMatchObject({ start: 0, end: 1, text: scriptedText(1), emotion: 'happy', event: 'Laughter' })
    expect(out.chunks.at(-1)).toEqual({
      type: 'transcript-info',
      language: 'en',
      duration: 1,
      emotion: 'happy',
      events: ['Laughter'],
      rawText: `<|en|><|HAPPY|><|Laughter|><|withitn|>${scriptedText(1)}`,
    })
  })

  test('empty audio (under 25 ms, no frame): an empty transcript, and the session is not run', async () => {
    const before = runs
    const out = sink()
    await engine.transcribe(args(tone(440, 16_000, 0.02)), out)
    expect(runs).toBe(before)
    expect(segmentsOf(out.chunks)).toEqual([])
    expect(out.chunks).toEqual([{ type: 'transcript-info', language: 'unknown', duration: 0.02, events: [] }])
  })

  test('long audio (72 s of tones and pauses) is split at the pauses: segments in order, at their offsets, each under 30 s', async () => {
    const out = sink()
    await engine.transcribe(args(tonesAndPauses(), { wordTimestamps: true }), out)
    const segments = segmentsOf(out.chunks)
    expect(segments.length).toBe(8)
    segments.forEach((segment, k) => {
      // Each tone starts at 9k s; the split keeps a little padding around it.
      expect(Math.abs(segment.start - 9 * k)).toBeLessThan(0.5)
      expect(segment.end - segment.start).toBeLessThanOrEqual(30)
      expect(segment.text.trim().startsWith('世界 hello')).toBe(true)
    })
    const words = out.chunks.filter((c) => c.type === 'transcript-word')
    expect(words.at(-1)!.start).toBeGreaterThan(63)
    expect(out.chunks.at(-1)).toMatchObject({ type: 'transcript-info', duration: 72, events: ['Laughter'] })
  })

  test('a client that leaves stops the decode between segments', async () => {
    const before = runs
    const leaving = sink(1)
    const error = await engine.transcribe(args(tonesAndPauses()), leaving).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CancelledError)
    expect(segmentsOf(leaving.chunks).length).toBe(1)
    expect(runs - before).toBe(1)
  })
})

for (const isolation of ['worker', 'process'] as Isolation[]) {
  describe(`the sensevoice adapter (isolation '${isolation}')`, () => {
    let loaded: LoadedModel
    let server: Server
    const post = (fields: Record<string, string | string[]>, audio: Uint8Array, route = 'transcriptions') => {
      const form = new FormData()
      form.append('model', 'sv')
      for (const [key, value] of Object.entries(fields)) for (const item of [value].flat()) form.append(key, item)
      form.append('file', new File([audio as Uint8Array<ArrayBuffer>], 'clip.wav', { type: 'audio/wav' }))
      return fetch(`${server.url}/v1/audio/${route}`, { method: 'POST', body: form })
    }
    const clip = wav(tone(440, 16_000, 1), 16_000, 1, 's16')

    beforeAll(async () => {
      fixture = tinySenseVoiceFixture({ variant: 'scripted' })
      loaded = await createSenseVoiceAdapter({ quiet: true }).load({ name: 'sv', adapter: 'sensevoice', path: fixture.model, options: { isolation, threads: 1 } })
      server = await startTestServer({}, (s) => s.registerModel('sv', loaded.providers, { limits: loaded.limits!, supports: loaded.supports! }))
    })
    afterAll(async () => {
      await server?.stop()
      await loaded?.dispose()
    })

    test('json: the scripted text, language, emotion and audio events', async () => {
      const response = await post({}, clip)
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({ text: scriptedText(1), language: 'en', emotion: 'happy', audio_events: ['Laughter'] })
      expect(loaded.metadata).toMatchObject({ isolation, provider: 'cpu' })
    })

    test('language and text_norm reach the model through its metadata’s prompt ids', async () => {
      const response = await post({ language: 'zh', text_norm: 'without_itn' }, clip)
      expect(await response.json()).toMatchObject({ text: scriptedText(1, false), language: 'zh' })
    })

    test('a language SenseVoice does not know is a 400 on language naming the five it does', async () => {
      const response = await post({ language: 'fr' }, clip)
      expect(response.status).toBe(400)
      const { error } = (await response.json()) as { error: { param: string; message: string } }
      expect(error.param).toBe('language')
      for (const code of ['zh', 'en', 'ja', 'ko', 'yue']) expect(error.message).toContain(code)
    })

    test('translations are a 400: this model does not translate', async () => {
      const response = await post({}, clip, 'translations')
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain('does not translate')
    })

    test('prompt and temperature are refused (400 unsupported_parameter), not silently ignored', async () => {
      for (const field of [{ prompt: 'hello' }, { temperature: '0.5' }] as Array<Record<string, string>>) {
        const response = await post(field, clip)
        expect(response.status).toBe(400)
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unsupported_parameter')
      }
    })

    test('include: raw_text is honoured, logprobs (which it has not) is a 400 on include', async () => {
      const raw = (await (await post({ 'include[]': 'raw_text' }, clip)).json()) as { raw_text: string }
      expect(raw.raw_text).toBe(`<|en|><|HAPPY|><|Laughter|><|withitn|>${scriptedText(1)}`)
      const response = await post({ 'include[]': 'logprobs' }, clip)
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error: { param: string } }).error.param).toBe('include')
    })

    test('empty audio (10 ms): an empty text', async () => {
      const response = await post({}, wav(tone(440, 16_000, 0.01), 16_000, 1, 's16'))
      expect(response.status).toBe(200)
      expect(((await response.json()) as { text: string }).text).toBe('')
    })

    test('dispose frees the engine: a request after it fails, and disposing twice is harmless', async () => {
      const other = await createSenseVoiceAdapter({ quiet: true }).load({ name: 'other', adapter: 'sensevoice', path: fixture.model, options: { isolation, threads: 1 } })
      await other.dispose()
      await other.dispose()
      const error = await Promise.resolve(other.providers.asr!({ model: 'other', task: 'transcribe', file: { name: 'a.wav', type: 'audio/wav', bytes: clip } }, undefined as never)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
      expect((error as Error).message).toContain('unloaded')
    })
  })
}

describe('the model files', () => {
  let dir: string
  const adapter = createSenseVoiceAdapter({ quiet: true })
  const claim = async (path: string) => adapter.canLoad(path, new Uint8Array(await Bun.file(path).slice(0, 64).arrayBuffer()))
  const loadError = async (path: string) => (await adapter.load({ name: 'x', adapter: 'sensevoice', path }).catch((e: unknown) => e)) as Error
  beforeAll(async () => {
    fixture = tinySenseVoiceFixture({ variant: 'scripted' })
    dir = await mkdtemp(join(tmpdir(), 'cy-sensevoice-files-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  test('claimed by its metadata with tokens.txt beside it; without tokens.txt, not claimed, and the reason says so', async () => {
    expect(await claim(fixture.model)).toEqual({ claim: true })
    const alone = join(dir, 'alone.onnx')
    await copyFile(fixture.model, alone)
    const refused = await claim(alone)
    expect(refused).toMatchObject({ claim: false, reason: expect.stringContaining('tokens.txt is missing') })
    expect((await loadError(alone)).message).toContain('tokens.txt is missing')
  })

  test('another ONNX model (no SenseVoice metadata) is not claimed', async () => {
    const other = join(dir, 'other', 'model.onnx')
    writeOnnxModel(other, { ...tinySenseVoice('scripted'), metadata: { model_type: 'piper' } })
    await writeFile(join(dir, 'other', 'tokens.txt'), '<blk> 0\n')
    expect(await claim(other)).toMatchObject({ claim: false, reason: expect.stringContaining('not a SenseVoice model') })
  })

  test('FunASR’s own export (no metadata; am.mvn and the sentencepiece model beside it) loads and decodes as sherpa-onnx’s packaging does', async () => {
    const random = tinySenseVoiceFixture({ variant: 'random' })
    const funasr = join(dir, 'funasr', 'model.onnx')
    writeOnnxModel(funasr, { ...tinySenseVoice('random'), metadata: {} })
    const { negMean, invStddev } = tinyCmvn()
    const line = (values: Float32Array) => `<LearnRateCoef> 0 [ ${Array.from(values, (v) => Number(v.toFixed(4))).join(' ')} ]`
    await writeFile(join(dir, 'funasr', 'am.mvn'), ['<Nnet>', '<Splice> 560 560', '[ 0 ]', '<AddShift> 560 560', line(negMean), '<Rescale> 560 560', line(invStddev), '</Nnet>', ''].join('\n'))
    await writeFile(join(dir, 'funasr', 'chn_jpn_yue_eng_ko_spectok.bpe.model'), sentencePieceModel(PIECES))
    expect(await claim(funasr)).toEqual({ claim: true })
    const ours = await SenseVoiceEngine.load({ format: 'funasr', model: funasr, tokens: join(dir, 'funasr', 'chn_jpn_yue_eng_ko_spectok.bpe.model'), cmvn: join(dir, 'funasr', 'am.mvn'), threads: 1, maxSegmentSeconds: 30 })
    const sherpaPackaging = await SenseVoiceEngine.load({ model: random.model, tokens: random.tokens, threads: 1, maxSegmentSeconds: 30 })
    try {
      // SenseVoice-Small's own prompt ids, which FunASR's export does not carry.
      expect(ours.metadata).toMatchObject({ vocabSize: PIECES.length, languages: { auto: 0, zh: 3, en: 4, yue: 7, ja: 11, ko: 12 }, withItn: 14, withoutItn: 15 })
      const samples = tonesAndPauses().subarray(0, 8 * 16_000)
      const a = (await ours.decode(samples, 'auto', false))!
      const b = (await sherpaPackaging.decode(samples, 'auto', false))!
      expect(a.tokens.length).toBeGreaterThan(0)
      expect({ text: a.text, tokens: a.tokens }).toEqual({ text: b.text, tokens: b.tokens })
    } finally {
      await ours.dispose()
      await sherpaPackaging.dispose()
    }
  })

  test('a FunASR folder without its sentencepiece model is not claimed, and the reason names what is missing', async () => {
    const funasr = join(dir, 'funasr-incomplete', 'model.onnx')
    writeOnnxModel(funasr, { ...tinySenseVoice('scripted'), metadata: {} })
    await writeFile(join(dir, 'funasr-incomplete', 'am.mvn'), '<Nnet>\n')
    await writeFile(join(dir, 'funasr-incomplete', 'tokens.json'), '[]')
    expect(await claim(funasr)).toMatchObject({ claim: false, reason: expect.stringContaining('chn_jpn_yue_eng_ko_spectok.bpe.model) is missing') })
    expect((await loadError(funasr)).message).toContain('tokens.json alone is not enough')
  })

  test('metadata without a required key is a clear error naming it', async () => {
    const { lang_ko: _, inv_stddev: __, ...partial } = tinySenseVoiceMetadata('scripted')
    const broken = join(dir, 'broken', 'model.onnx')
    writeOnnxModel(broken, { ...tinySenseVoice('scripted'), metadata: partial })
    await copyFile(fixture.tokens, join(dir, 'broken', 'tokens.txt'))
    const error = await loadError(broken)
    expect(error.message).toContain('lacks lang_ko, inv_stddev')
  })
})

describe('the options', () => {
  test('defaults: engine process, ITN on, 30 s segments, an hour and 100 MiB per upload, onnxruntime’s threads and providers', () => {
    expect(parseSenseVoiceOptions({})).toEqual({ isolation: 'process', itn: true, maxSegmentSeconds: 30, maxSeconds: 3600, maxBytes: 100 * 1024 * 1024 })
    expect(parseSenseVoiceOptions({ threads: 3, providers: ['cpu'], itn: false, isolation: 'worker' })).toMatchObject({ threads: 3, providers: ['cpu'], itn: false, isolation: 'worker' })
  })

  test('bad values are clear errors naming the option', () => {
    expect(() => parseSenseVoiceOptions({ threads: 0 })).toThrow("sensevoice option 'threads'")
    expect(() => parseSenseVoiceOptions({ providers: ['tpu'] })).toThrow("sensevoice option 'providers' must be a list of cuda, coreml, cpu")
    expect(() => parseSenseVoiceOptions({ isolation: 'thread' })).toThrow("sensevoice option 'isolation'")
  })
})
