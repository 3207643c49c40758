import { decodeAudio } from '@cy/audio'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { EMOTION_TAGS, EVENT_TAGS, LANGUAGE_TAGS } from '../../packages/adapter-sensevoice/src/decode/index.ts'
import { SenseVoiceEngine } from '../../packages/adapter-sensevoice/src/engine/sensevoice-engine.ts'
import { applyCmvn, applyLfr, FbankComputer, senseVoiceFeatures } from '../../packages/adapter-sensevoice/src/frontend/index.ts'
import { wav } from '../audio/wav-fixtures.ts'
import { sherpaDecode, type SherpaDecodeResult } from '../fixtures/sensevoice/reference-sherpa.ts'
import { tinySenseVoiceFixture, type SenseVoiceFixture } from '../fixtures/sensevoice/sensevoice-fixtures.ts'
import { mergeBytePieces } from '../fixtures/sensevoice/sensevoice-vocabulary.ts'
import { seededRandom } from '../fixtures/seeded-random.ts'

/**
 * Our frontend and decoding against sherpa-onnx-node's SenseVoice on the same tiny random-weight model (whose
 * text is a sensitive function of the features). The upload goes through our decoder (@cy/audio: WAV parsing,
 * channel mixing, resampling to 16 kHz) and sherpa gets the very 16 kHz mono samples it produced: sherpa
 * resamples with its own filter, so feeding it the original 8 or 44.1 kHz audio would compare two resamplers,
 * not the frontend and decoding this test is about. For 16 kHz mono uploads the samples are the file's own.
 */

/** Speech-like audio: a gliding tone with harmonics, syllable-rate bursts and seeded noise, on `channels` channels. */
function speechLike(seconds: number, rate: number, channels: number, seed: number): Float32Array {
  const random = seededRandom(seed)
  const frames = Math.round(seconds * rate)
  const out = new Float32Array(frames * channels)
  let phase = 0
  for (let i = 0; i < frames; i++) {
    const t = i / rate
    phase += (2 * Math.PI * (150 + 90 * Math.sin(2 * Math.PI * 0.7 * t))) / rate
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t + seed)
    const voiced = 0.3 * Math.sin(phase) + 0.15 * Math.sin(3 * phase) + 0.08 * Math.sin(7 * phase)
    for (let c = 0; c < channels; c++) out[i * channels + c] = envelope * voiced + 0.05 * (random() * 2 - 1) * (c + 1)
  }
  return out
}

const CASES = [
  { seconds: 0.37, rate: 16_000, channels: 1 },
  { seconds: 1, rate: 16_000, channels: 1 },
  { seconds: 7.8, rate: 16_000, channels: 1 },
  { seconds: 1, rate: 8_000, channels: 1 },
  { seconds: 7.8, rate: 44_100, channels: 2 },
  { seconds: 0.37, rate: 44_100, channels: 1 },
  { seconds: 1, rate: 16_000, channels: 2 },
] as const

const PROMPTS = [
  { language: 'auto', itn: false },
  { language: 'zh', itn: true },
] as const

const tagOf = (table: Readonly<Record<string, unknown>>, value: unknown) => Object.keys(table).find((tag) => table[tag] === value) ?? ''

let fixture: SenseVoiceFixture
let engine: SenseVoiceEngine
const inputs = new Map<string, Float32Array>()

beforeAll(async () => {
  fixture = tinySenseVoiceFixture({ variant: 'random' })
  engine = await SenseVoiceEngine.load({ model: fixture.model, tokens: fixture.tokens, threads: 1, maxSegmentSeconds: 30 })
  for (const [i, c] of CASES.entries()) {
    const file = wav(speechLike(c.seconds, c.rate, c.channels, i + 1), c.rate, c.channels, 's16')
    inputs.set(JSON.stringify(c), (await decodeAudio(file, {}, 16_000)).samples)
  }
})
afterAll(() => engine?.dispose())

/**
 * sherpa's result in our terms: tags by name, text with byte pieces merged (sherpa 1.13.8 leaves them as <0xNN>)
 * and trimmed (it keeps the space a trailing `▁` piece spells; the spec trims, as FunASR does).
 */
function sherpaTerms(result: SherpaDecodeResult) {
  return {
    language: LANGUAGE_TAGS[result.lang],
    emotion: EMOTION_TAGS[result.emotion],
    event: EVENT_TAGS[result.event],
    text: mergeBytePieces(result.text).trim(),
    timestamps: result.timestamps,
  }
}

describe('SenseVoice against sherpa-onnx-node on the same model and samples', () => {
  for (const c of CASES) {
    for (const prompt of PROMPTS) {
      test(`${c.seconds} s at ${c.rate} Hz, ${c.channels === 1 ? 'mono' : 'stereo'}, language ${prompt.language}, itn ${prompt.itn}: the same language, emotion, event, text and token times`, async () => {
        const samples = inputs.get(JSON.stringify(c))!
        const ours = (await engine.decode(samples, prompt.language, prompt.itn))!
        const reference = await sherpaDecode({ model: fixture.model, tokens: fixture.tokens, samples, sampleRate: 16_000, language: prompt.language, useItn: prompt.itn })
        expect(reference.tokens.length).toBeGreaterThan(0)
        expect({ language: ours.language, emotion: ours.emotion, event: ours.event, text: ours.text, timestamps: ours.tokens.map((t) => t.start) }).toEqual(sherpaTerms(reference))
        expect(ours.tokens.map((t) => t.text).join('')).toBe(mergeBytePieces(reference.tokens.join('')))
        expect(ours.tokens.length).toBe(reference.timestamps.length)
      })
    }
  }

  test('the tags, as sherpa-onnx names them, map back one to one', async () => {
    const samples = inputs.get(JSON.stringify(CASES[1]))!
    const ours = (await engine.decode(samples, 'auto', false))!
    const reference = await sherpaDecode({ model: fixture.model, tokens: fixture.tokens, samples, sampleRate: 16_000 })
    expect([tagOf(LANGUAGE_TAGS, ours.language), tagOf(EMOTION_TAGS, ours.emotion), tagOf(EVENT_TAGS, ours.event)]).toEqual([reference.lang, reference.emotion, reference.event])
  })

  /**
   * The comparison can fail: the same decoding on features made without pre-emphasis, or with the old unpadded
   * LFR, no longer matches sherpa-onnx on these clips (so a frontend with either mistake fails the tests above).
   */
  test('it is sensitive: features without pre-emphasis, or with unpadded LFR, no longer match sherpa-onnx', async () => {
    const meta = engine.metadata
    const prompt = meta.languages.auto
    const wrong = { preemphasis: 0, unpaddedLfr: 0 }
    for (const c of CASES.filter((each) => each.seconds > 0.5)) {
      const samples = inputs.get(JSON.stringify(c))!
      const reference = sherpaTerms(await sherpaDecode({ model: fixture.model, tokens: fixture.tokens, samples, sampleRate: 16_000 }))
      const duration = samples.length / 16_000
      const right = await engine.decodeFeatures(senseVoiceFeatures(samples, meta), prompt, false, duration)
      expect(right.text).toBe(reference.text)
      const plain = new FbankComputer({ preemphasis: 0 }).compute(samples)
      const noPreemphasis = applyLfr(plain.data, plain.frames, plain.bins, meta.lfrWindowSize, meta.lfrWindowShift)
      applyCmvn(noPreemphasis.data, meta.negMean, meta.invStddev)
      const a = await engine.decodeFeatures(noPreemphasis, prompt, false, duration)
      if (a.text !== reference.text || a.tokens.map((t) => t.start).join() !== reference.timestamps.join()) wrong.preemphasis++
      const mel = new FbankComputer().compute(samples)
      const unpadded = unpaddedLfr(mel.data, mel.frames, mel.bins, meta.lfrWindowSize, meta.lfrWindowShift)
      applyCmvn(unpadded.data, meta.negMean, meta.invStddev)
      const b = await engine.decodeFeatures(unpadded, prompt, false, duration)
      if (b.text !== reference.text || b.tokens.map((t) => t.start).join() !== reference.timestamps.join()) wrong.unpaddedLfr++
    }
    expect(wrong.preemphasis).toBeGreaterThan(0)
    expect(wrong.unpaddedLfr).toBeGreaterThan(0)
  })
})

/** The old LFR (sherpa-onnx ≤ 1.13.4, FunASR's test.py): (T − m) / n + 1 frames, no edge padding. A deliberate mistake. */
function unpaddedLfr(data: Float32Array, frames: number, dim: number, window: number, shift: number): { data: Float32Array; frames: number } {
  const out = frames < window ? 0 : Math.floor((frames - window) / shift) + 1
  const result = new Float32Array(out * dim * window)
  for (let i = 0; i < out; i++) result.set(data.subarray(i * shift * dim, (i * shift + window) * dim), i * dim * window)
  return { data: result, frames: out }
}
