import { feedsFor, loadOnnxSession, readOnnxMetadata, type LoadedOnnxSession } from '@cy/onnx'
import { beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { ctcGreedy, decodeSenseVoice, LANGUAGE_TAGS, EMOTION_TAGS, EVENT_TAGS, readTokens } from '../../packages/adapter-sensevoice/src/decode/index.ts'
import {
  applyCmvn,
  applyLfr,
  FbankComputer,
  fbankFrameCount,
  kaldiMelBanks,
  lfrFrameCount,
  melScale,
  PowerSpectrum,
  senseVoiceFeatures,
} from '../../packages/adapter-sensevoice/src/frontend/index.ts'
import { splitAtSilences } from '../../packages/adapter-sensevoice/src/segment/index.ts'
import { tone } from '../audio/wav-fixtures.ts'
import { seededRandom } from '../fixtures/seeded-random.ts'
import { sherpaDecode } from '../fixtures/sensevoice/reference-sherpa.ts'
import { tinySenseVoiceFixture } from '../fixtures/sensevoice/sensevoice-fixtures.ts'

const LOG_EPS = Math.log(1.1920928955078125e-7)

function noise(seconds: number, seed = 7, amplitude = 0.3): Float32Array {
  const random = seededRandom(seed)
  return Float32Array.from({ length: Math.round(16_000 * seconds) }, () => (random() * 2 - 1) * amplitude)
}

const row = (data: Float32Array, t: number, dim: number) => Array.from(data.subarray(t * dim, (t + 1) * dim))
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length

describe('fbank', () => {
  test('snip edges: 0 frames below 400 samples, then one per 160', () => {
    expect([399, 400, 559, 560, 16_000].map((n) => fbankFrameCount(n))).toEqual([0, 1, 1, 2, 98])
    const computer = new FbankComputer()
    expect(computer.compute(new Float32Array(399)).frames).toBe(0)
    expect(computer.compute(new Float32Array(400)).frames).toBe(1)
    expect(computer.compute(new Float32Array(560)).frames).toBe(2)
  })

  test('the power spectrum equals a direct DFT', () => {
    const random = seededRandom(3)
    const frame = Float32Array.from({ length: 512 }, () => random() * 2 - 1)
    const out = new Float32Array(257)
    new PowerSpectrum(512).compute(frame, out)
    for (const k of [0, 1, 17, 128, 255, 256]) {
      let re = 0
      let im = 0
      for (let n = 0; n < 512; n++) {
        re += frame[n]! * Math.cos((2 * Math.PI * k * n) / 512)
        im -= frame[n]! * Math.sin((2 * Math.PI * k * n) / 512)
      }
      expect(out[k]! / (re * re + im * im)).toBeCloseTo(1, 4)
    }
  })

  test("Kaldi's mel bins: 80 triangles from 20 Hz to Nyquist over bins 0..255", () => {
    const banks = kaldiMelBanks(80, 16_000, 512)
    expect(banks).toHaveLength(80)
    expect(banks[0]!.offset).toBeGreaterThan(0)
    const lastBank = banks[79]!
    expect(lastBank.offset + lastBank.weights.length - 1).toBeLessThanOrEqual(255)
    for (const bank of banks) for (const w of bank.weights) expect(w).toBeGreaterThan(0)
  })

  test("a sine's energy lands in the mel bin centred nearest its frequency", () => {
    const delta = (melScale(8000) - melScale(20)) / 81
    const computer = new FbankComputer()
    for (const hz of [300, 1000, 3000, 6000]) {
      const { data, frames, bins } = computer.compute(tone(hz, 16_000, 0.1))
      const energies = row(data, Math.floor(frames / 2), bins)
      const loudest = energies.indexOf(Math.max(...energies))
      const centres = Array.from({ length: 80 }, (_, b) => Math.abs(melScale(20) + (b + 1) * delta - melScale(hz)))
      expect(loudest).toBe(centres.indexOf(Math.min(...centres)))
    }
  })

  test("DC removal leaves a constant signal's bins at the log floor", () => {
    const { data } = new FbankComputer().compute(new Float32Array(800).fill(0.25))
    expect(data[0]).toBeCloseTo(LOG_EPS, 3)
    expect(Math.max(...data)).toBeLessThan(LOG_EPS + 1)
  })

  test('pre-emphasis tilts the spectrum towards high frequencies', () => {
    const samples = noise(0.5)
    const tilt = (preemphasis: number) => {
      const { data, frames, bins } = new FbankComputer({ preemphasis }).compute(samples)
      const averaged = Array.from({ length: bins }, (_, b) => mean(Array.from({ length: frames }, (_, t) => data[t * bins + b]!)))
      return mean(averaged.slice(-10)) - mean(averaged.slice(0, 10))
    }
    // White noise is flat in power per Hz; 1 − 0.97z⁻¹ attenuates low frequencies by about 30 dB (≈ 7 in ln power).
    expect(tilt(0.97) - tilt(0)).toBeGreaterThan(4)
  })

  test('samples are scaled by 32768 when normalize_samples is 0', () => {
    const samples = noise(0.1)
    const scaled = new FbankComputer({ sampleScale: 32768 }).compute(samples).data
    const plain = new FbankComputer({ sampleScale: 1 }).compute(samples).data
    expect(scaled[5]! - plain[5]!).toBeCloseTo(2 * Math.log(32768), 3)
  })

  test('speed: well above real time (reported as frames/s)', () => {
    const samples = noise(20)
    const computer = new FbankComputer()
    computer.compute(samples.subarray(0, 16_000))
    const began = performance.now()
    const { frames } = computer.compute(samples)
    const seconds = (performance.now() - began) / 1000
    console.log(`fbank: ${frames} frames in ${(seconds * 1000).toFixed(1)} ms = ${Math.round(frames / seconds)} frames/s`)
    // 100 frames are one second of audio: 5,000 frames/s is 50× real time even on a busy shared core.
    expect(frames / seconds).toBeGreaterThan(5000)
  })
})

describe('LFR and CMVN', () => {
  const stackedIndices = (frames: number) => {
    const input = Float32Array.from({ length: frames }, (_, i) => i)
    const out = applyLfr(input, frames, 1, 7, 6)
    return Array.from({ length: out.frames }, (_, i) => row(out.data, i, 7))
  }

  test('⌈T/6⌉ frames of 7, padded by repeating the edge frames', () => {
    expect([0, 1, 6, 7, 12, 13, 98].map((t) => lfrFrameCount(t))).toEqual([0, 1, 1, 2, 2, 3, 17])
    expect(stackedIndices(1)).toEqual([[0, 0, 0, 0, 0, 0, 0]])
    expect(stackedIndices(6)).toEqual([[0, 0, 0, 0, 1, 2, 3]])
    expect(stackedIndices(7)).toEqual([
      [0, 0, 0, 0, 1, 2, 3],
      [3, 4, 5, 6, 6, 6, 6],
    ])
    expect(stackedIndices(13)).toEqual([
      [0, 0, 0, 0, 1, 2, 3],
      [3, 4, 5, 6, 7, 8, 9],
      [9, 10, 11, 12, 12, 12, 12],
    ])
  })

  test('frames are stacked frame-major: 7 × 80', () => {
    const input = Float32Array.from({ length: 3 * 2 }, (_, i) => i)
    const out = applyLfr(input, 3, 2, 3, 2)
    // window 3, shift 2, left pad 1: frames [0,0,1] and [1,2,2].
    expect(Array.from(out.data)).toEqual([0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5])
  })

  test('CMVN: (x + neg_mean) · inv_stddev per dimension', () => {
    const data = Float32Array.from([1, 2, 3, 4])
    applyCmvn(data, [-1, 1], [2, 0.5])
    expect(Array.from(data)).toEqual([0, 1.5, 4, 2.5])
    expect(() => applyCmvn(new Float32Array(3), [0, 0], [1, 1])).toThrow(RangeError)
  })

  test('senseVoiceFeatures: 1 s → 98 fbank frames → 17 × 560, CMVN applied', () => {
    const meta = { lfrWindowSize: 7, lfrWindowShift: 6, negMean: new Float32Array(560).fill(-10), invStddev: new Float32Array(560).fill(0.5), normalizeSamples: 0 }
    const samples = noise(1)
    const features = senseVoiceFeatures(samples, meta)
    expect(features.frames).toBe(17)
    expect(features.data).toHaveLength(17 * 560)
    const mel = new FbankComputer().compute(samples)
    // Output frame 1, slot 0 is fbank frame 3.
    expect(features.data[560]).toBeCloseTo((mel.data[3 * 80]! - 10) * 0.5, 4)
    expect(senseVoiceFeatures(new Float32Array(399), meta)).toEqual({ data: new Float32Array(0), frames: 0 })
    expect(() => senseVoiceFeatures(samples, { ...meta, negMean: new Float32Array(80) })).toThrow(RangeError)
  })
})

describe('splitAtSilences', () => {
  const concat = (...parts: Float32Array[]) => Float32Array.from(parts.flatMap((part) => Array.from(part)))
  const silence = (seconds: number) => new Float32Array(Math.round(16_000 * seconds))

  test('tone – silence – tone: two segments, leading and trailing silence trimmed', () => {
    const audio = concat(silence(0.5), tone(440, 16_000, 1), silence(1), tone(660, 16_000, 2), silence(0.7))
    const segments = splitAtSilences(audio, 16_000)
    expect(segments).toHaveLength(2)
    const [a, b] = segments as [{ start: number; end: number }, { start: number; end: number }]
    // Each keeps its tone and at most 100 ms of padding around it.
    expect(a.start).toBeGreaterThanOrEqual(0.4 * 16_000 - 160)
    expect(a.start).toBeLessThanOrEqual(0.5 * 16_000)
    expect(a.end).toBeGreaterThanOrEqual(1.5 * 16_000)
    expect(a.end).toBeLessThanOrEqual(1.6 * 16_000 + 160)
    expect(b.start).toBeLessThanOrEqual(2.5 * 16_000)
    expect(b.end).toBeGreaterThanOrEqual(4.5 * 16_000)
    expect(b.end).toBeLessThanOrEqual(4.6 * 16_000 + 160)
  })

  test('a pause shorter than minSilenceMs does not split', () => {
    const audio = concat(tone(440, 16_000, 1), silence(0.2), tone(440, 16_000, 1))
    expect(splitAtSilences(audio, 16_000)).toHaveLength(1)
    expect(splitAtSilences(audio, 16_000, { minSilenceMs: 150 })).toHaveLength(2)
  })

  test('silence against a noise floor is found too', () => {
    const audio = concat(noise(1, 1, 0.003), tone(440, 16_000, 1), noise(1, 2, 0.003), tone(440, 16_000, 1), noise(1, 3, 0.003))
    expect(splitAtSilences(audio, 16_000)).toHaveLength(2)
  })

  test('70 s of tone without a pause: consecutive segments of at most 30 s covering it', () => {
    const audio = tone(440, 16_000, 70)
    const segments = splitAtSilences(audio, 16_000)
    expect(segments.length).toBeGreaterThanOrEqual(3)
    for (const s of segments) expect(s.end - s.start).toBeLessThanOrEqual(30 * 16_000)
    expect(segments[0]!.start).toBe(0)
    expect(segments.at(-1)!.end).toBe(audio.length)
    for (let i = 1; i < segments.length; i++) expect(segments[i]!.start).toBe(segments[i - 1]!.end)
  })

  test('a long stretch is cut at its quietest point', () => {
    // 40 s of tone with a 150 ms dip (too short to count as a pause) at 22 s: the cut lands in the dip.
    const audio = tone(440, 16_000, 40)
    audio.fill(0, 22 * 16_000, 22.15 * 16_000)
    const segments = splitAtSilences(audio, 16_000)
    expect(segments).toHaveLength(2)
    expect(segments[0]!.end).toBeGreaterThanOrEqual(22 * 16_000)
    expect(segments[0]!.end).toBeLessThanOrEqual(22.15 * 16_000)
  })

  test('silence, empty audio and clicks shorter than 25 ms give nothing', () => {
    expect(splitAtSilences(silence(2), 16_000)).toEqual([])
    expect(splitAtSilences(new Float32Array(0), 16_000)).toEqual([])
    const click = concat(silence(1), tone(1000, 16_000, 0.01), silence(1))
    expect(splitAtSilences(click, 16_000, { padMs: 0 })).toEqual([])
  })
})

describe('parity with sherpa-onnx 1.13.8 on the random fixture model', () => {
  type Frontend = (samples: Float32Array) => { data: Float32Array; frames: number }
  const fixture = tinySenseVoiceFixture({ variant: 'random' })
  const symbols = readTokens(readFileSync(fixture.tokens, 'utf8'))
  let session: LoadedOnnxSession['session']
  let meta: Record<string, string>
  let cmvn: { negMean: Float32Array; invStddev: Float32Array }

  beforeAll(async () => {
    ;({ session } = await loadOnnxSession(fixture.model, { threads: 1, providers: ['cpu'] }))
    meta = await readOnnxMetadata(fixture.model)
    const floats = (key: string) => Float32Array.from(meta[key]!.split(','), Number)
    cmvn = { negMean: floats('neg_mean'), invStddev: floats('inv_stddev') }
  })

  /** Speech-like test audio: a gliding harmonic tone with a syllable-rate envelope over faint noise, 16-bit quantised like a WAV. */
  function speechLike(seconds: number, seed: number): Float32Array {
    const random = seededRandom(seed)
    const n = Math.round(16_000 * seconds)
    const out = new Float32Array(n)
    let phase = 0
    for (let i = 0; i < n; i++) {
      const t = i / 16_000
      const pitch = 140 + 60 * Math.sin(2 * Math.PI * 0.7 * t + seed)
      phase += (2 * Math.PI * pitch) / 16_000
      const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t)
      const voiced = 0.3 * Math.sin(phase) + 0.15 * Math.sin(3 * phase) + 0.08 * Math.sin(7 * phase)
      out[i] = Math.round((envelope * voiced + 0.02 * (random() * 2 - 1)) * 32767) / 32768
    }
    return out
  }

  async function ours(samples: Float32Array, frontend: Frontend) {
    const { data, frames } = frontend(samples)
    const feeds = feedsFor(session, {
      x: { data, dims: [1, frames, 560] },
      x_length: { data: [frames], dims: [1] },
      language: { data: [Number(meta.lang_auto)], dims: [1] },
      text_norm: { data: [Number(meta.without_itn)], dims: [1] },
    })
    const output = await session.run(feeds)
    const logits = output[session.outputNames[0]!]!.data as Float32Array
    const vocab = Number(meta.vocab_size)
    return decodeSenseVoice(ctcGreedy(logits, frames + 4, vocab, Number(meta.blank_id)), symbols)
  }

  const metaFrontend = (): Parameters<typeof senseVoiceFeatures>[1] => ({
    lfrWindowSize: Number(meta.lfr_window_size),
    lfrWindowShift: Number(meta.lfr_window_shift),
    negMean: cmvn.negMean,
    invStddev: cmvn.invStddev,
    normalizeSamples: Number(meta.normalize_samples),
  })
  const correct: Frontend = (samples) => senseVoiceFeatures(samples, metaFrontend())
  const noPreemphasis: Frontend = (samples) => {
    const mel = new FbankComputer({ preemphasis: 0 }).compute(samples)
    const stacked = applyLfr(mel.data, mel.frames, 80, 7, 6)
    return { data: applyCmvn(stacked.data, cmvn.negMean, cmvn.invStddev), frames: stacked.frames }
  }
  /** The pre-1.13.5 sherpa LFR: (T − 7)/6 + 1 frames of frames 6i..6i+6, no padding. */
  const unpaddedLfr: Frontend = (samples) => {
    const mel = new FbankComputer().compute(samples)
    const frames = mel.frames < 7 ? 0 : Math.floor((mel.frames - 7) / 6) + 1
    const data = new Float32Array(frames * 560)
    for (let i = 0; i < frames; i++) data.set(mel.data.subarray(i * 6 * 80, (i * 6 + 7) * 80), i * 560)
    return { data: applyCmvn(data, cmvn.negMean, cmvn.invStddev), frames }
  }

  const cases = [
    { seconds: 0.37, seed: 1 },
    { seconds: 1, seed: 2 },
    { seconds: 7.8, seed: 3 },
  ]
  const references = new Map<number, Awaited<ReturnType<typeof sherpaDecode>>>()
  const reference = async (seconds: number, samples: Float32Array) => {
    if (!references.has(seconds)) references.set(seconds, await sherpaDecode({ model: fixture.model, tokens: fixture.tokens, samples, sampleRate: 16_000 }))
    return references.get(seconds)!
  }
  const sameAsSherpa = (mine: Awaited<ReturnType<typeof ours>>, sherpa: Awaited<ReturnType<typeof sherpaDecode>>) =>
    LANGUAGE_TAGS[sherpa.lang] === mine.language &&
    EMOTION_TAGS[sherpa.emotion] === mine.emotion &&
    EVENT_TAGS[sherpa.event] === mine.event &&
    sherpa.text.trim() === mine.text &&
    sherpa.timestamps.length === mine.tokens.length &&
    sherpa.timestamps.every((t, i) => Math.abs(t - mine.tokens[i]!.start) < 1e-5)

  for (const { seconds, seed } of cases) {
    test(`${seconds} s: the same tags, text and timestamps as sherpa-onnx`, async () => {
      const samples = speechLike(seconds, seed)
      const sherpa = await reference(seconds, samples)
      const mine = await ours(samples, correct)
      expect({ language: mine.language, emotion: mine.emotion, event: mine.event }).toEqual({
        language: LANGUAGE_TAGS[sherpa.lang],
        emotion: EMOTION_TAGS[sherpa.emotion],
        event: EVENT_TAGS[sherpa.event],
      })
      expect(mine.text).toBe(sherpa.text.trim())
      expect(mine.tokens.map((token) => token.start)).toEqual(sherpa.timestamps.map((t) => expect.closeTo(t, 5)))
      // The comparison has teeth: the model emitted text (17 LFR frames per second of audio).
      expect(mine.tokens.length).toBeGreaterThanOrEqual(Math.max(2, Math.floor(seconds * 3)))
    })
  }

  test('a frontend without pre-emphasis, or with unpadded LFR, does not match', async () => {
    for (const broken of [noPreemphasis, unpaddedLfr]) {
      const verdicts: boolean[] = []
      for (const { seconds, seed } of cases) {
        const samples = speechLike(seconds, seed)
        verdicts.push(sameAsSherpa(await ours(samples, broken), await reference(seconds, samples)))
      }
      expect(verdicts).toContain(false)
      // The long file differs for either defect.
      expect(verdicts[2]).toBe(false)
    }
    const samples = speechLike(7.8, 3)
    expect(sameAsSherpa(await ours(samples, correct), await reference(7.8, samples))).toBe(true)
  })
})
