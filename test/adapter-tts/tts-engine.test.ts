import createTtsAdapter from '@cy/adapter-tts'
import { BadRequestError, CancelledError, OutputChannel, type AudioChunk, type Isolation, type LoadedModel, type OutputChunk, type UsageChunk } from '@cy/core'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { KokoroSynthesizer, mixedStyle } from '../../packages/adapter-tts/src/engine/kokoro-synthesizer.ts'
import type { SpeakArgs } from '../../packages/adapter-tts/src/engine/speak-args.ts'
import { speechRuns } from '../../packages/adapter-tts/src/engine/speech-runs.ts'
import { TtsEngine } from '../../packages/adapter-tts/src/engine/tts-engine.ts'
import { resolveEspeak } from '../../packages/adapter-tts/src/espeak/resolve-espeak.ts'
import { kokoroPhonemes, kokoroTokenChunks } from '../../packages/adapter-tts/src/kokoro/kokoro-tokens.ts'
import { piperIds } from '../../packages/adapter-tts/src/piper/piper-ids.ts'
import { normalizeText } from '../../packages/adapter-tts/src/text/normalize-text.ts'
import { splitSpeech } from '../../packages/adapter-tts/src/text/split-text.ts'
import { ttsFiles } from '../../packages/adapter-tts/src/voices/tts-files.ts'
import { IDENTITY } from '../fixtures/tts/identity-code.ts'
import { KOKORO_VOICES, kokoroVoiceStyles } from '../fixtures/tts/tiny-kokoro.ts'
import { PIPER_SPEAKERS } from '../fixtures/tts/tiny-piper.ts'
import { tinyKokoroFixture, tinyPiperFixture } from '../fixtures/tts/tts-fixtures.ts'
import { recordingWorkerSink } from '../support/recording-worker-sink.ts'

const TEXT = 'Hello world. How are you today? The quick brown fox jumps over the lazy dog.'
const audioOf = (chunks: OutputChunk[]) => chunks.filter((c): c is AudioChunk => c.type === 'audio')
const floats = (chunk: AudioChunk) => Float32Array.from(new Int16Array(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength / 2), (x) => x / 32767)
/** The silence an engine put before a chunk's run. */
const leadingZeros = (samples: Float32Array) => Math.max(0, samples.findIndex((x) => x !== 0))

/** The value one identity token's block holds (the first block of a run is negated: the run marker). */
function blocks(samples: Float32Array, perToken: number, stride = 1): number[] {
  const start = leadingZeros(samples)
  const values: number[] = []
  for (let at = start; at < samples.length; at += perToken) values.push(Math.abs(samples[at + (stride - 1)]!))
  expect(samples[start]!).toBeLessThan(0)
  return values
}

/** A Piper identity chunk's ids and sid (identity-code.ts), at `perId` samples an id. */
function piperIdsOf(chunk: AudioChunk, perId: number = IDENTITY.PIPER_SAMPLES_PER_ID): { ids: number[]; sids: number[] } {
  const values = blocks(floats(chunk), perId)
  const sids = values.map((v) => Math.floor((v - IDENTITY.BASE + 1e-4) / IDENTITY.SPEAKER_STEP))
  const ids = values.map((v, i) => Math.round((v - IDENTITY.BASE - sids[i]! * IDENTITY.SPEAKER_STEP) / IDENTITY.ID_STEP))
  return { ids, sids }
}

const espeak = async () => {
  const found = await resolveEspeak()
  return { library: found.library, dataPath: found.dataPath }
}
const args = (extra: Partial<SpeakArgs> = {}): SpeakArgs => ({
  input: TEXT,
  voice: { kind: 'piper', sid: 0 },
  language: 'en-us',
  speed: 1,
  sentencePauseMs: 250,
  clausePauseMs: 120,
  ...extra,
})

/** Counts the real session's runs (it still runs) and records how many had run when each chunk was pushed. */
function countRuns(engine: TtsEngine): { runs: number } {
  const counter = { runs: 0 }
  const session = engine.synthesizer.session
  const run = session.run.bind(session)
  session.run = ((...a: Parameters<typeof run>) => {
    counter.runs++
    return run(...a)
  }) as typeof run
  return counter
}

describe('the Piper engine (identity voice)', () => {
  let engine: TtsEngine
  let counter: { runs: number }
  beforeAll(async () => {
    const fixture = tinyPiperFixture({ speakers: 1, variant: 'identity' })
    engine = await TtsEngine.load({ files: await ttsFiles(fixture.model), name: 'tiny', espeak: await espeak(), threads: 1, providers: ['cpu'] })
    counter = countRuns(engine)
  })
  afterAll(() => engine?.dispose())

  test("each run feeds piperIds of our phonemizer's clauses: the first clause alone, then a sentence a run", async () => {
    const text = 'Well, hello there, my friend. How are you today? Fine: thanks.'
    const runs = speechRuns(splitSpeech(normalizeText(text)))
    expect(runs.map((run) => run.text)).toEqual(['Well,', 'hello there, my friend.', 'How are you today?', 'Fine: thanks.'])
    const out = recordingWorkerSink()
    await engine.speak(args({ input: text }), out)
    const chunks = audioOf(out.chunks)
    expect(chunks).toHaveLength(runs.length)
    const map = (engine.synthesizer as unknown as { config: { phonemeIdMap: Record<string, number[]> } }).config.phonemeIdMap
    chunks.forEach((chunk, i) => {
      expect(piperIdsOf(chunk).ids).toEqual(piperIds(engine.phonemizer.phonemize(runs[i]!.text, 'en-us'), map))
    })
    expect(chunks.every((chunk) => chunk.format === 'pcm' && chunk.sampleRate === 22050 && chunk.channels === 1)).toBe(true)
    // Usage: the phoneme ids fed, not characters.
    const fed = chunks.reduce((sum, chunk) => sum + piperIdsOf(chunk).ids.length, 0)
    expect(out.chunks.at(-1)).toMatchObject({ type: 'usage', promptTokens: fed, completionTokens: 0 } satisfies Partial<UsageChunk>)
  })

  test('a chunk goes out as soon as its run is made: the first before the last run', async () => {
    const pushedAt: number[] = []
    const out = recordingWorkerSink()
    const push = out.push.bind(out)
    out.push = (chunk) => {
      if (chunk.type === 'audio') pushedAt.push(counter.runs)
      return push(chunk)
    }
    const before = counter.runs
    await engine.speak(args(), out)
    expect(pushedAt.map((runs) => runs - before)).toEqual([1, 2, 3])
  })

  test('pauses between runs: a sentence pause after a sentence, a clause pause after a clause, scaled by 1/speed', async () => {
    for (const speed of [1, 2]) {
      const out = recordingWorkerSink()
      await engine.speak(args({ input: 'One, two three. Four five.', speed }), out)
      const chunks = audioOf(out.chunks).map(floats)
      expect(chunks.map(leadingZeros)).toEqual([0, Math.round((22050 * 0.12) / speed), Math.round((22050 * 0.25) / speed)])
    }
  })

  test('speed 2 halves each id’s samples (length_scale / speed), the ids unchanged', async () => {
    const one = recordingWorkerSink()
    const two = recordingWorkerSink()
    await engine.speak(args({ input: 'Hello world.' }), one)
    await engine.speak(args({ input: 'Hello world.', speed: 2 }), two)
    const [a] = audioOf(one.chunks)
    const [b] = audioOf(two.chunks)
    expect(b!.data.length * 2).toBe(a!.data.length)
    expect(piperIdsOf(b!, IDENTITY.PIPER_SAMPLES_PER_ID / 2).ids).toEqual(piperIdsOf(a!).ids)
  })

  test('sample_rate resamples every chunk to it', async () => {
    const out = recordingWorkerSink()
    await engine.speak(args({ input: 'Hello world.', sampleRate: 16000 }), out)
    const [chunk] = audioOf(out.chunks)
    const native = recordingWorkerSink()
    await engine.speak(args({ input: 'Hello world.' }), native)
    expect(chunk!.sampleRate).toBe(16000)
    expect(Math.abs(chunk!.data.length / 2 - (audioOf(native.chunks)[0]!.data.length / 2) * (16000 / 22050))).toBeLessThan(2)
  })

  test('a client that leaves stops the work before the next run', async () => {
    const out = recordingWorkerSink()
    const push = out.push.bind(out)
    out.push = (chunk) => {
      const result = push(chunk)
      Atomics.store(out.abortFlag, 0, 1)
      return result
    }
    const before = counter.runs
    expect(await engine.speak(args(), out).catch((e: unknown) => e)).toBeInstanceOf(CancelledError)
    expect(counter.runs - before).toBe(1)
    expect(audioOf(out.chunks)).toHaveLength(1)
  })

  test('an espeak voice that does not exist (a request’s language) is a 400 on language', async () => {
    const error = await engine.speak(args({ language: 'xx-nowhere' }), recordingWorkerSink()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BadRequestError)
    expect((error as BadRequestError).param).toBe('language')
  })
})

describe('the 3-speaker Piper voice (identity)', () => {
  let engine: TtsEngine
  beforeAll(async () => {
    const fixture = tinyPiperFixture({ speakers: 3, variant: 'identity' })
    engine = await TtsEngine.load({ files: await ttsFiles(fixture.model), name: 'tiny3', espeak: await espeak(), threads: 1, providers: ['cpu'] })
  })
  afterAll(() => engine?.dispose())

  test('lists its speakers in sid order and feeds the chosen sid', async () => {
    expect(engine.info.voices.map((voice) => [voice.id, voice.sid])).toEqual(Object.entries(PIPER_SPEAKERS))
    for (const sid of [0, 1, 2]) {
      const out = recordingWorkerSink()
      await engine.speak(args({ input: 'Hello.', voice: { kind: 'piper', sid } }), out)
      expect(new Set(piperIdsOf(audioOf(out.chunks)[0]!).sids)).toEqual(new Set([sid]))
    }
  })
})

describe('the Kokoro engine (identity model)', () => {
  let engine: TtsEngine
  const kokoro = () => engine.synthesizer as KokoroSynthesizer
  beforeAll(async () => {
    const fixture = tinyKokoroFixture({ variant: 'identity' })
    engine = await TtsEngine.load({ files: await ttsFiles(fixture.model), name: 'kokoro', espeak: await espeak(), threads: 1, providers: ['cpu'] })
  })
  afterAll(() => engine?.dispose())

  /** Per token of a run: its id (positions ≡ 0 mod 4), style[0] (≡ 1) and style[1] (≡ 3) (identity-code.ts). */
  const decode = (chunk: AudioChunk, speed = 1) => {
    const perToken = IDENTITY.KOKORO_SAMPLES_PER_ID / speed
    const samples = floats(chunk)
    const start = leadingZeros(samples)
    const at = (offset: number) => blocks(samples.subarray(start + offset), perToken)
    return {
      ids: at(0).map((v) => Math.round((v - IDENTITY.BASE) / IDENTITY.ID_STEP) + 0),
      rows: at(1).map((v) => Math.round((v - IDENTITY.BASE) / IDENTITY.ID_STEP)),
      voice: at(3).map((v) => (v - IDENTITY.BASE) / IDENTITY.VOICE_STEP),
    }
  }

  test('24 kHz, its voices from voices.bin named by the metadata, each with its language', () => {
    expect(engine.info).toMatchObject({ kind: 'kokoro', sampleRate: 24000 })
    expect(engine.info.voices.map((voice) => voice.id)).toEqual([...KOKORO_VOICES])
    expect(engine.info.voices.find((voice) => voice.id === 'bf_emma')!.language).toBe('en-gb')
  })

  test('tokens are kokoroTokens of our phonemes, with the style row at the token count', async () => {
    const out = recordingWorkerSink()
    const text = 'Hello world. How are you?'
    await engine.speak(args({ input: text, voice: { kind: 'kokoro', mix: [{ index: 2, weight: 1 }] } }), out)
    const runs = speechRuns(splitSpeech(text))
    const chunks = audioOf(out.chunks)
    expect(chunks).toHaveLength(runs.length)
    chunks.forEach((chunk, i) => {
      const expected = kokoroTokenChunks(kokoroPhonemes(engine.phonemizer.phonemize(runs[i]!.text, 'en-us')), kokoro().vocab)[0]!
      const read = decode(chunk)
      expect(read.ids).toEqual(expected)
      expect(new Set(read.rows)).toEqual(new Set([expected.length - 2]))
      for (const voice of read.voice) expect(voice).toBeCloseTo(2, 2)
    })
  })

  test('a mix is the weighted mean of the voices’ style rows', async () => {
    const out = recordingWorkerSink()
    await engine.speak(args({ input: 'Hello.', voice: { kind: 'kokoro', mix: [{ index: 0, weight: 2 / 3 }, { index: 3, weight: 1 / 3 }] } }), out)
    for (const voice of decode(audioOf(out.chunks)[0]!).voice) expect(voice).toBeCloseTo(1, 2)
    // Every dimension, not only the two the identity model shows.
    const style = mixedStyle(kokoro().styles, { kind: 'kokoro', mix: [{ index: 0, weight: 0.75 }, { index: 1, weight: 0.25 }] }, 12)
    const [a, b] = [kokoroVoiceStyles(0).subarray(10 * 256, 11 * 256), kokoroVoiceStyles(1).subarray(10 * 256, 11 * 256)]
    style.forEach((value, i) => expect(value).toBeCloseTo(0.75 * a[i]! + 0.25 * b[i]!, 5))
  })

  test('speed is fed to the model: 600/speed samples a token', async () => {
    const out = recordingWorkerSink()
    await engine.speak(args({ input: 'Hello.', speed: 2, voice: { kind: 'kokoro', mix: [{ index: 0, weight: 1 }] } }), out)
    const one = recordingWorkerSink()
    await engine.speak(args({ input: 'Hello.', voice: { kind: 'kokoro', mix: [{ index: 0, weight: 1 }] } }), one)
    expect(decode(audioOf(out.chunks)[0]!, 2).ids).toEqual(decode(audioOf(one.chunks)[0]!).ids)
    expect(audioOf(out.chunks)[0]!.data.length * 2).toBe(audioOf(one.chunks)[0]!.data.length)
  })
})

/** Runs a loaded model's tts provider the way the server does, collecting its chunks. */
async function speak(loaded: LoadedModel, request: Record<string, unknown>): Promise<OutputChunk[]> {
  const out = new OutputChannel()
  const chunks: OutputChunk[] = []
  // A failed call fails the channel too: its reader stops with the same error, reported by the caller.
  const reading = (async () => {
    for await (const chunk of out) chunks.push(chunk)
  })().catch(() => {})
  await Promise.resolve(loaded.providers.tts!({ model: 'voice', input: 'Hello world.', voice: 'tiny', ...request } as never, out)).catch((error: unknown) => {
    out.fail(error)
    throw error
  })
  await reading
  return chunks
}

for (const isolation of ['worker', 'process'] as Isolation[]) {
  describe(`the tts adapter (isolation '${isolation}')`, () => {
    let piper: LoadedModel
    beforeAll(async () => {
      const fixture = tinyPiperFixture({ speakers: 3, variant: 'identity' })
      piper = await createTtsAdapter({ quiet: true }).load({ name: 'voice', adapter: 'tts', path: fixture.model, options: { isolation, threads: 1, voiceAliases: { nova: 'ivy' } } })
    })
    afterAll(() => piper?.dispose())

    test('lists its voices, declares what it honours, one run at a time', () => {
      expect(piper.metadata).toMatchObject({ isolation, family: 'piper', sampleRate: 22050, voices: [{ id: 'nora', name: 'nora', language: 'en-us' }, { id: 'kai' }, { id: 'ivy' }] })
      expect(piper.limits).toEqual({ maxConcurrency: 1 })
      expect(piper.supports!.tts).toEqual(['speed', 'instructions', 'language', 'sample_rate', 'noise_scale', 'noise_w'])
    })

    test('a speaker by name; OpenAI names through voiceAliases, else the first voice', async () => {
      const sidOf = async (voice: string) => piperIdsOf(audioOf(await speak(piper, { voice }))[0]!).sids[0]
      expect(await sidOf('kai')).toBe(1)
      expect(await sidOf('nova')).toBe(2)
      expect(await sidOf('alloy')).toBe(0)
    })

    test('an unknown voice is a 400 on voice listing the voices', async () => {
      const error = await speak(piper, { voice: 'nobody' }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BadRequestError)
      expect((error as BadRequestError).param).toBe('voice')
      for (const name of ['nora', 'kai', 'ivy']) expect((error as Error).message).toContain(name)
    })

    test('the audio, then the usage', async () => {
      const chunks = await speak(piper, { input: 'Hello world. How are you?', voice: 'kai' })
      expect(chunks.map((chunk) => chunk.type)).toEqual(['audio', 'audio', 'usage'])
    })
  })
}

describe('two voices of other languages in one process', () => {
  // espeak-ng keeps one state per process: two models' Workers (isolation 'worker') share it. Each takes the
  // process's espeak lock and sets its own voice again after the other changed it.
  test('the English voice speaks English again after the German one spoke', async () => {
    const load = (language: 'en-us' | 'de') =>
      createTtsAdapter({ quiet: true }).load({ name: language, adapter: 'tts', path: tinyPiperFixture({ speakers: 1, variant: 'identity', language }).model, options: { isolation: 'worker', threads: 1 } })
    const [english, german] = await Promise.all([load('en-us'), load('de')])
    try {
      const idsOf = async (model: LoadedModel, input: string) => audioOf(await speak(model, { input, voice: 'alloy' })).map((chunk) => piperIdsOf(chunk).ids)
      const before = await idsOf(english, 'Hello world.')
      await idsOf(german, 'Guten Tag.')
      expect(await idsOf(english, 'Hello world.')).toEqual(before)
      // At once, too: each run of each model phonemizes under the lock.
      const together = await Promise.all([idsOf(english, 'Hello world.'), idsOf(german, 'Guten Tag.'), idsOf(english, 'Hello world.')])
      expect(together[0]).toEqual(before)
      expect(together[2]).toEqual(before)
    } finally {
      await Promise.all([english.dispose(), german.dispose()])
    }
  }, 60_000)
})

describe('the tts adapter with a Kokoro model', () => {
  let kokoro: LoadedModel
  beforeAll(async () => {
    const fixture = tinyKokoroFixture({ variant: 'identity' })
    kokoro = await createTtsAdapter({ quiet: true }).load({ name: 'voice', adapter: 'tts', path: fixture.model, options: { isolation: 'worker', threads: 1 } })
  })
  afterAll(() => kokoro?.dispose())

  test('mixing by name: af_bella(2)+bf_emma(1); noise_scale is not declared', async () => {
    expect(kokoro.supports!.tts).not.toContain('noise_scale')
    const chunks = await speak(kokoro, { voice: 'af_bella(2)+bf_emma(1)', input: 'Hi.' })
    const samples = floats(audioOf(chunks)[0]!)
    expect((Math.abs(samples[3]!) - IDENTITY.BASE) / IDENTITY.VOICE_STEP).toBeCloseTo(1, 2)
  })

  test('a mix naming an unknown voice is a 400 naming it', async () => {
    const error = await speak(kokoro, { voice: 'af_bella+af_nobody' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BadRequestError)
    expect((error as Error).message).toContain("'af_nobody'")
  })

  test('a voiceAliases entry naming no voice of the model is a load error, not a 400 on every request', async () => {
    const fixture = tinyKokoroFixture({ variant: 'identity' })
    const error = await createTtsAdapter({ quiet: true })
      .load({ name: 'bad', adapter: 'tts', path: fixture.model, options: { isolation: 'process', voiceAliases: { alloy: 'af_nobody' } } })
      .catch((e: unknown) => e)
    expect((error as Error).message).toContain("voiceAliases: 'alloy' → 'af_nobody'")
  })
})
