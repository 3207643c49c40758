import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { feedsFor, loadOnnxSession, onnxRuntime, readOnnxMetadata } from '@cy/onnx'
import { attr, encodeOnnxModel } from '../fixtures/onnx/onnx-writer.ts'
import { seededRandom } from '../fixtures/seeded-random.ts'
import { sherpaDecode } from '../fixtures/sensevoice/reference-sherpa.ts'
import { tinySenseVoiceFixture } from '../fixtures/sensevoice/sensevoice-fixtures.ts'
import { mergeBytePieces, piecesToText, PIECES, VOCAB_SIZE } from '../fixtures/sensevoice/sensevoice-vocabulary.ts'
import { PROMPT_IDS, PROMPT_TAGS, scriptedPieces, tinySenseVoice } from '../fixtures/sensevoice/tiny-sensevoice.ts'

// The fixture tier: the tiny SenseVoice models load in onnxruntime-node, say what they are meant to say, and
// sherpa-onnx-node (the reference the adapter is compared with) reads them as a real SenseVoice model.

const RATE = 16000
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
/** A rising tone: every 60 ms frame differs, so the random model has something to say. */
const chirp = (seconds: number) =>
  Float32Array.from({ length: Math.round(RATE * seconds) }, (_, i) => 0.4 * Math.sin(2 * Math.PI * ((200 * i) / RATE + (1500 * (i / RATE) ** 2) / seconds)))
/** SenseVoice's frames for n samples at 16 kHz: 25 ms / 10 ms fbank with snip edges, then LFR ⌈T/6⌉. */
const lfrFrames = (n: number) => Math.ceil((n < 400 ? 0 : 1 + Math.floor((n - 400) / 160)) / 6)

describe('onnx-writer', () => {
  test('a model it writes loads in onnxruntime-node and computes (int64 attribute tensors, symbolic dims)', async () => {
    const ort = onnxRuntime()
    const bytes = encodeOnnxModel({
      graph: {
        nodes: [
          { opType: 'Add', inputs: ['a', 'b'], outputs: ['sum'] },
          { opType: 'Constant', inputs: [], outputs: ['c'], attributes: { value: attr.tensor({ dataType: 'int64', dims: [2], data: [-1, 5] }) } },
        ],
        initializers: [{ name: 'b', dataType: 'float32', dims: [3], data: [1, 2, 3] }],
        inputs: [{ name: 'a', elemType: 'float32', shape: ['N', 3] }],
        outputs: [
          { name: 'sum', elemType: 'float32', shape: ['N', 3] },
          { name: 'c', elemType: 'int64', shape: [2] },
        ],
      },
    })
    const session = await ort.InferenceSession.create(bytes)
    expect(session.inputMetadata).toEqual([{ name: 'a', isTensor: true, type: 'float32', shape: ['N', 3] }])
    const out = await session.run({ a: new ort.Tensor('float32', Float32Array.of(1, 1, 1, 2, 2, 2), [2, 3]) })
    expect(Array.from(out.sum!.data as Float32Array)).toEqual([2, 3, 4, 3, 4, 5])
    expect(Array.from(out.c!.data as BigInt64Array)).toEqual([-1n, 5n])
    await session.release()
  })
})

describe('tiny SenseVoice fixtures', () => {
  test('are deterministic: the same bytes every time, and the files hold them', () => {
    for (const variant of ['random', 'scripted'] as const) {
      const first = encodeOnnxModel(tinySenseVoice(variant))
      expect(sha256(encodeOnnxModel(tinySenseVoice(variant)))).toBe(sha256(first))
      const fixture = tinySenseVoiceFixture({ variant })
      expect(sha256(readFileSync(fixture.model))).toBe(sha256(first))
      expect(tinySenseVoiceFixture({ variant })).toEqual(fixture)
      const lines = readFileSync(fixture.tokens, 'utf8').trimEnd().split('\n')
      expect(lines).toHaveLength(VOCAB_SIZE)
      expect(lines[0]).toBe('<unk> 0')
    }
  })

  test('carry every metadata key sherpa-onnx reads, with prompt ids that are not the real model’s', async () => {
    const meta = await readOnnxMetadata(tinySenseVoiceFixture({ variant: 'scripted' }).model)
    for (const key of ['vocab_size', 'blank_id', 'lfr_window_size', 'lfr_window_shift', 'normalize_samples', 'with_itn', 'without_itn', 'lang_auto', 'lang_zh', 'lang_en', 'lang_ja', 'lang_ko', 'lang_yue', 'lang_nospeech', 'neg_mean', 'inv_stddev', 'model_type', 'version', 'comment']) {
      expect(meta[key]).toBeDefined()
    }
    expect(meta).toMatchObject({ model_type: 'sense_voice_ctc', vocab_size: String(VOCAB_SIZE), blank_id: '0', lfr_window_size: '7', lfr_window_shift: '6', normalize_samples: '0' })
    expect(meta.neg_mean!.split(',').map(Number).filter(Number.isFinite)).toHaveLength(560)
    expect(meta.inv_stddev!.split(',').map(Number).filter((v) => v > 0)).toHaveLength(560)
    expect(meta.comment).not.toContain('Nano')
    // The prompt ids are the tags' vocabulary ids, so code that hard-codes 3/4/14/15 gets other tags.
    expect([meta.lang_zh, meta.lang_en, meta.with_itn, meta.without_itn]).toEqual(['<|zh|>', '<|en|>', '<|withitn|>', '<|woitn|>'].map((t) => String(PIECES.indexOf(t))))
    expect(Number(meta.with_itn)).not.toBe(14)
  })

  for (const variant of ['random', 'scripted'] as const) {
    test(`${variant}: onnxruntime-node loads it; inputs x, x_length, language, text_norm; logits [1, T+4, V]`, async () => {
      const { session } = await loadOnnxSession(tinySenseVoiceFixture({ variant }).model, { providers: ['cpu'], threads: 1 })
      expect(session.inputNames).toEqual(['x', 'x_length', 'language', 'text_norm'])
      expect(session.inputMetadata.map((m) => (m.isTensor ? m.type : 'other'))).toEqual(['float32', 'int32', 'int32', 'int32'])
      expect(session.outputNames).toEqual(['logits'])
      for (const frames of [1, 17]) {
        const next = seededRandom(frames)
        const feeds = feedsFor(session, {
          x: { data: Float32Array.from({ length: frames * 560 }, () => next() * 4 - 2), dims: [1, frames, 560] },
          x_length: { data: [frames], dims: [1] },
          language: { data: [PROMPT_IDS.ko], dims: [1] },
          text_norm: { data: [PROMPT_IDS.withoutItn], dims: [1] },
        })
        const { logits } = await session.run(feeds)
        expect(logits!.dims).toEqual([1, frames + 4, VOCAB_SIZE])
        const data = logits!.data as Float32Array
        const argmax = (f: number) => {
          let best = 0
          for (let v = 1; v < VOCAB_SIZE; v++) if (data[f * VOCAB_SIZE + v]! > data[f * VOCAB_SIZE + best]!) best = v
          return PIECES[best]
        }
        const tags = PROMPT_TAGS[variant]
        expect([0, 1, 2, 3].map(argmax)).toEqual(['<|ko|>', tags.emotion, tags.event, '<|woitn|>'])
      }
      // A batch of two: each item's prompt frames follow its own language and text_norm.
      const batch = await session.run(
        feedsFor(session, {
          x: { data: new Float32Array(2 * 3 * 560).fill(1), dims: [2, 3, 560] },
          x_length: { data: [3, 3], dims: [2] },
          language: { data: [PROMPT_IDS.zh, PROMPT_IDS.yue], dims: [2] },
          text_norm: { data: [PROMPT_IDS.withItn, PROMPT_IDS.withoutItn], dims: [2] },
        }),
      )
      expect(batch.logits!.dims).toEqual([2, 7, VOCAB_SIZE])
      const data = batch.logits!.data as Float32Array
      const frame = (item: number, f: number) => data.subarray((item * 7 + f) * VOCAB_SIZE, (item * 7 + f + 1) * VOCAB_SIZE)
      const top = (row: Float32Array) => PIECES[row.indexOf(Math.max(...row))]
      expect([top(frame(0, 0)), top(frame(0, 3)), top(frame(1, 0)), top(frame(1, 3))]).toEqual(['<|zh|>', '<|withitn|>', '<|yue|>', '<|woitn|>'])
      await session.release()
    })
  }
})

describe('sherpa-onnx-node reads the fixtures as SenseVoice models', () => {
  const scripted = tinySenseVoiceFixture({ variant: 'scripted' })
  const oneSecond = chirp(1)

  test('scripted, 1 s, auto + ITN: the tags, the with-ITN script one token a frame, timestamps 0 … 0.96 s', async () => {
    const result = await sherpaDecode({ ...scripted, samples: oneSecond, sampleRate: RATE, useItn: true })
    const pieces = scriptedPieces(lfrFrames(oneSecond.length), true)
    expect(pieces).toHaveLength(17)
    expect(result).toMatchObject({ lang: PROMPT_TAGS.autoLanguage, emotion: PROMPT_TAGS.scripted.emotion, event: PROMPT_TAGS.scripted.event })
    expect(result.tokens).toEqual(pieces.map((p) => p.replaceAll('▁', ' ')))
    expect(result.timestamps).toEqual(pieces.map((_, i) => Number((i * 0.06).toFixed(2))))
    expect(mergeBytePieces(result.text)).toBe(piecesToText(pieces))
    expect(piecesToText(pieces)).toBe('世界 hello, world. I am 25! hello, world.')
  })

  test('scripted: the language option picks the language tag, and ITN off picks the other script', async () => {
    for (const language of ['zh', 'en', 'ja', 'ko', 'yue']) {
      const result = await sherpaDecode({ ...scripted, samples: oneSecond, sampleRate: RATE, language, useItn: false })
      expect(result.lang).toBe(`<|${language}|>`)
      expect(mergeBytePieces(result.text)).toBe('世界 hello world I am twenty five hello world I am twenty five hello')
    }
  })

  test('scripted: 2.5 s at 8 kHz gives ⌈T/6⌉ text tokens after sherpa resamples', async () => {
    const rate = 8000
    const samples = Float32Array.from({ length: rate * 2.5 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 300 * i) / rate))
    const result = await sherpaDecode({ ...scripted, samples, sampleRate: rate, useItn: true })
    expect(result.tokens).toHaveLength(lfrFrames(2.5 * RATE))
    expect(result.timestamps.at(-1)).toBeCloseTo((lfrFrames(2.5 * RATE) - 1) * 0.06, 5)
  })

  test('random: a varied token sequence that changes when the audio does', async () => {
    const random = tinySenseVoiceFixture({ variant: 'random' })
    const decode = (samples: Float32Array) => sherpaDecode({ ...random, samples, sampleRate: RATE })
    const base = await decode(chirp(2))
    expect(base).toMatchObject({ lang: PROMPT_TAGS.autoLanguage, emotion: PROMPT_TAGS.random.emotion, event: PROMPT_TAGS.random.event })
    expect(base.tokens.length).toBeGreaterThanOrEqual(8)
    expect(new Set(base.tokens).size).toBeGreaterThanOrEqual(5)
    expect(base.tokens.some((t) => /^<.*>$/.test(t))).toBe(false)
    // What frontend mistakes do to the audio's features: a flatter spectrum (no pre-emphasis is a tilt), a
    // 30 ms shift (LFR padding / frame alignment), a level change (the ×32768 scaling, under CMVN).
    const x = chirp(2)
    const deemphasised = new Float32Array(x.length)
    for (let i = 0, prev = 0; i < x.length; i++) deemphasised[i] = prev = x[i]! + 0.97 * prev
    for (const changed of [deemphasised.map((v) => v * 0.05), x.subarray(480), x.map((v) => v * 0.5)]) {
      expect((await decode(changed)).tokens).not.toEqual(base.tokens)
    }
  })
})
