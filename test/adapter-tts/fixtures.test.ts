import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { feedsFor, loadOnnxSession, readOnnxMetadata, type LoadedOnnxSession } from '@cy/onnx'
import { encodeOnnxModel } from '../fixtures/onnx/onnx-writer.ts'
import { IDENTITY } from '../fixtures/tts/identity-code.ts'
import { KOKORO_VOCAB, kokoroVocab } from '../fixtures/tts/kokoro-vocab.ts'
import { idsOf, PIPER_SYMBOLS, piperPhonemeIdMap } from '../fixtures/tts/piper-phonemes.ts'
import { identityIds, sherpaSpeak } from '../fixtures/tts/reference-sherpa-tts.ts'
import { KOKORO_VOICES, kokoroVoiceStyles, tinyKokoro } from '../fixtures/tts/tiny-kokoro.ts'
import { PIPER_SPEAKERS, tinyPiper, type TinyPiperOptions } from '../fixtures/tts/tiny-piper.ts'
import { tinyKokoroFixture, tinyPiperFixture } from '../fixtures/tts/tts-fixtures.ts'
import { samplesFor } from '../fixtures/tts/tts-graph.ts'

// The fixture tier for issue 14: the tiny Piper and Kokoro models load in onnxruntime-node with exactly the
// exported interfaces, their identity variants say back what they were fed, and sherpa-onnx-node (the
// reference the adapter is compared with) reads them as a real Piper voice / Kokoro model.

type InferenceSession = LoadedOnnxSession['session']

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const piperOptions: TinyPiperOptions[] = [
  { speakers: 1, variant: 'random' },
  { speakers: 1, variant: 'identity' },
  { speakers: 3, variant: 'random' },
  { speakers: 3, variant: 'identity' },
  { speakers: 1, variant: 'identity', language: 'de', sampleRate: 16000 },
]
const mapOf = (config: string): Record<string, number[]> => JSON.parse(readFileSync(config, 'utf8')).phoneme_id_map
/** Piper's ids for a sentence written as `^_h_ə_…_$` (the pads included). */
const piperIds = (map: Record<string, number[]>, symbols: string) => idsOf(map, symbols)
const kokoroIds = (phonemes: string) => [0, ...Array.from(phonemes, (s) => kokoroVocab()[s]!), 0]
const toS16 = (x: Float32Array) => Int16Array.from(x, (v) => Math.round(Math.max(-1, Math.min(1, v)) * 32767))
const peak = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0)

async function runPiper(session: InferenceSession, ids: number[], { lengthScale = 1, sid = 0, noiseScale = 0.667 } = {}) {
  const inputs: Parameters<typeof feedsFor>[1] = {
    input: { data: ids, dims: [1, ids.length] },
    input_lengths: { data: [ids.length], dims: [1] },
    scales: { data: [noiseScale, lengthScale, 0.8], dims: [3] },
  }
  if (session.inputNames.includes('sid')) inputs.sid = { data: [sid], dims: [1] }
  const { output } = await session.run(feedsFor(session, inputs))
  return { dims: output!.dims, samples: output!.data as Float32Array }
}

async function runKokoro(session: InferenceSession, ids: number[], style: Float32Array, speed = 1) {
  const { audio } = await session.run(
    feedsFor(session, { tokens: { data: ids, dims: [1, ids.length] }, style: { data: style, dims: [1, 256] }, speed: { data: [speed], dims: [1] } }),
  )
  return { dims: audio!.dims, samples: audio!.data as Float32Array }
}

const styleRow = (voice: number, row: number) => kokoroVoiceStyles(voice).slice(row * 256, (row + 1) * 256)

/** The entries of a stored zip, read from its local headers, for checking the .npz. */
function zipEntries(bytes: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const entries = new Map<string, Uint8Array>()
  for (let at = 0; view.getUint32(at, true) === 0x04034b50; ) {
    expect(view.getUint16(at + 8, true)).toBe(0) // stored
    const size = view.getUint32(at + 18, true)
    const nameLength = view.getUint16(at + 26, true)
    const start = at + 30 + nameLength + view.getUint16(at + 28, true)
    entries.set(new TextDecoder().decode(bytes.subarray(at + 30, at + 30 + nameLength)), bytes.subarray(start, start + size))
    at = start + size
  }
  return entries
}

describe('tiny TTS fixtures', () => {
  test('are deterministic: the same bytes every time, and the files hold them', () => {
    for (const options of piperOptions) {
      const first = encodeOnnxModel(tinyPiper(options))
      expect(sha256(encodeOnnxModel(tinyPiper(options)))).toBe(sha256(first))
      const fixture = tinyPiperFixture(options)
      expect(sha256(readFileSync(fixture.model))).toBe(sha256(first))
      expect(tinyPiperFixture(options)).toEqual(fixture)
      expect(fixture.config).toBe(`${fixture.model}.json`)
    }
    for (const variant of ['random', 'identity'] as const) {
      const first = encodeOnnxModel(tinyKokoro(variant))
      const fixture = tinyKokoroFixture({ variant })
      expect(sha256(readFileSync(fixture.model))).toBe(sha256(first))
      expect(tinyKokoroFixture({ variant })).toEqual(fixture)
    }
    // The voices files do not depend on the variant.
    const [random, identity] = [tinyKokoroFixture({ variant: 'random' }), tinyKokoroFixture({ variant: 'identity' })]
    expect(sha256(readFileSync(random.voicesNpz))).toBe(sha256(readFileSync(identity.voicesNpz)))
    expect(sha256(readFileSync(random.voicesBin))).toBe(sha256(readFileSync(identity.voicesBin)))
  })

  test('a Piper voice: its .onnx.json as Piper writes it, sherpa’s tokens.txt of the same map, sherpa’s metadata', async () => {
    const one = tinyPiperFixture({ speakers: 1, variant: 'identity' })
    const config = JSON.parse(readFileSync(one.config, 'utf8'))
    expect(Object.keys(config)).toEqual(['audio', 'espeak', 'inference', 'phoneme_type', 'phoneme_map', 'phoneme_id_map', 'num_symbols', 'num_speakers', 'speaker_id_map', 'piper_version', 'language', 'dataset'])
    expect(config).toMatchObject({
      audio: { sample_rate: 22050, quality: 'medium' },
      espeak: { voice: 'en-us' },
      inference: { noise_scale: 0.667, length_scale: 1, noise_w: 0.8 },
      phoneme_type: 'espeak',
      num_symbols: 256,
      num_speakers: 1,
      speaker_id_map: {},
      language: { code: 'en_US', family: 'en' },
    })
    const map: Record<string, number[]> = config.phoneme_id_map
    // The file lists the symbols in piper-phonemize's table order (a parsed object puts '0'…'9' first).
    const text = readFileSync(one.config, 'utf8')
    const listed = [...text.slice(text.indexOf('"phoneme_id_map"'), text.indexOf('"num_symbols"')).matchAll(/^ {8}("(?:[^"\\]|\\.)*"): \[$/gm)].map((m) => JSON.parse(m[1]!))
    expect(listed).toEqual([...PIPER_SYMBOLS])
    expect(text).toContain('"phoneme_id_map": {\n        "_": [\n            ')
    for (const symbol of ['_', '^', '$', ' ', ',', '.', '?', '!', ';', ':', 'ə', 'ˈ', 'ː', 'ɹ', 'ʊ', 'ɜ']) expect(map[symbol]).toHaveLength(1)
    const ids = Object.values(map).map(([id]) => id!)
    expect(new Set(ids).size).toBe(ids.length)
    expect(Math.max(...ids)).toBeLessThan(256)
    // Not piper-phonemize's default map (`_` 0, `^` 1, `$` 2 ...), and another map for German.
    expect([map._![0], map['^']![0], map.$![0]]).not.toEqual([0, 1, 2])
    expect(piperPhonemeIdMap('de')).not.toEqual(map)
    const lines = readFileSync(one.tokens, 'utf8').split('\n').slice(0, -1)
    expect(lines).toEqual(PIPER_SYMBOLS.map((symbol) => `${symbol} ${map[symbol]![0]}`))

    const three = JSON.parse(readFileSync(tinyPiperFixture({ speakers: 3, variant: 'random' }).config, 'utf8'))
    expect(three).toMatchObject({ num_speakers: 3, speaker_id_map: PIPER_SPEAKERS })
    const german = JSON.parse(readFileSync(tinyPiperFixture({ speakers: 1, variant: 'identity', language: 'de', sampleRate: 16000 }).config, 'utf8'))
    expect(german).toMatchObject({ audio: { sample_rate: 16000, quality: 'low' }, espeak: { voice: 'de' }, language: { code: 'de_DE' } })
    const slow = tinyPiperFixture({ speakers: 1, variant: 'identity', lengthScale: 1.5 })
    expect(slow.dir).not.toBe(one.dir)
    expect(JSON.parse(readFileSync(slow.config, 'utf8')).inference).toEqual({ noise_scale: 0.667, length_scale: 1.5, noise_w: 0.8 })

    expect(await readOnnxMetadata(one.model)).toEqual({ model_type: 'vits', comment: 'piper', language: 'English', voice: 'en-us', version: '1', has_espeak: '1', has_g2pw: '0', n_speakers: '1', sample_rate: '22050' })
    expect(await readOnnxMetadata(tinyPiperFixture({ speakers: 3, variant: 'identity' }).model)).toMatchObject({ n_speakers: '3' })
  })

  test('a Kokoro model: sherpa’s metadata, voices.bin and the .npz hold the same (510, 1, 256) styles, tokens.txt and config.json', async () => {
    const fixture = tinyKokoroFixture({ variant: 'identity' })
    expect(fixture.voiceNames).toEqual(KOKORO_VOICES)
    expect(await readOnnxMetadata(fixture.model)).toMatchObject({
      model_type: 'kokoro',
      sample_rate: '24000',
      has_espeak: '1',
      version: '2',
      voice: 'en-us',
      style_dim: '510,1,256',
      n_speakers: '4',
      speaker_names: 'af_bella,af_sky,am_adam,bf_emma',
    })
    const bin = readFileSync(fixture.voicesBin)
    expect(bin.byteLength).toBe(4 * 510 * 256 * 4)
    const entries = zipEntries(readFileSync(fixture.voicesNpz))
    expect([...entries.keys()]).toEqual(KOKORO_VOICES.map((v) => `${v}.npy`))
    KOKORO_VOICES.forEach((voice, i) => {
      const npy = entries.get(`${voice}.npy`)!
      const headerLength = new DataView(npy.buffer, npy.byteOffset).getUint16(8, true)
      expect(Array.from(npy.subarray(0, 8))).toEqual([0x93, ...Buffer.from('NUMPY'), 1, 0])
      expect((10 + headerLength) % 64).toBe(0)
      expect(new TextDecoder().decode(npy.subarray(10, 10 + headerLength))).toBe(`{'descr': '<f4', 'fortran_order': False, 'shape': (510, 1, 256), }`.padEnd(headerLength - 1, ' ') + '\n')
      const data = npy.subarray(10 + headerLength)
      expect(sha256(data)).toBe(sha256(bin.subarray(i * 510 * 256 * 4, (i + 1) * 510 * 256 * 4)))
    })
    expect(readFileSync(fixture.tokens, 'utf8')).toBe(KOKORO_VOCAB.map(([s, id]) => `${s} ${id}\n`).join(''))
    expect(KOKORO_VOCAB).toHaveLength(114)
    expect(JSON.parse(readFileSync(fixture.config, 'utf8')).vocab).toEqual(kokoroVocab())
  })
})

describe('onnxruntime-node runs the tiny TTS models', () => {
  for (const options of piperOptions.slice(0, 4)) {
    test(`Piper ${options.variant}, ${options.speakers} speaker(s): Piper's inputs, output [1,1,1,⌊L·256·length_scale⌋]`, async () => {
      const { session } = await loadOnnxSession(tinyPiperFixture(options).model, { providers: ['cpu'], threads: 1 })
      expect(session.inputNames).toEqual(['input', 'input_lengths', 'scales', ...(options.speakers > 1 ? ['sid'] : [])])
      expect(session.inputMetadata.map((m) => (m.isTensor ? m.type : 'other'))).toEqual(['int64', 'int64', 'float32', ...(options.speakers > 1 ? ['int64' as const] : [])])
      expect(session.outputNames).toEqual(['output'])
      const ids = [7, 0, 42, 0, 255, 0, 3]
      for (const lengthScale of [1, 0.7, 1 / 1.3, 2.5]) {
        const { dims, samples } = await runPiper(session, ids, { lengthScale, sid: 2 })
        expect(dims).toEqual([1, 1, 1, samplesFor(ids.length, Math.fround(256 * Math.fround(lengthScale)))])
        if (options.variant === 'identity') {
          const read = identityIds(samples, { kind: 'piper', speed: 1 / lengthScale })
          expect(read.ids).toEqual([ids])
          expect(read.sid).toBe(options.speakers > 1 ? 2 : 0)
          expect(identityIds(toS16(samples), { kind: 'piper', speed: 1 / lengthScale }).runs).toEqual(read.runs)
        } else {
          expect(peak(samples)).toBeLessThanOrEqual(1)
          expect(peak(samples)).toBeGreaterThan(0.2)
        }
      }
      if (options.variant === 'random') {
        const base = (await runPiper(session, ids)).samples
        const otherIds = (await runPiper(session, [7, 0, 41, 0, 255, 0, 3])).samples
        const quieter = (await runPiper(session, ids, { noiseScale: 0.1 })).samples
        expect(otherIds).not.toEqual(base)
        expect(peak(quieter)).toBeLessThan(peak(base))
        // Smooth: neighbouring samples differ by little (no noise, no clicks).
        expect(base.slice(1).reduce((m, v, i) => Math.max(m, Math.abs(v - base[i]!)), 0)).toBeLessThan(0.15)
        if (options.speakers > 1) expect((await runPiper(session, ids, { sid: 1 })).samples).not.toEqual(base)
      }
      await session.release()
    })
  }

  for (const variant of ['random', 'identity'] as const) {
    test(`Kokoro ${variant}: tokens, style, speed → audio [⌊L·600/speed⌋]`, async () => {
      const { session } = await loadOnnxSession(tinyKokoroFixture({ variant }).model, { providers: ['cpu'], threads: 1 })
      expect(session.inputNames).toEqual(['tokens', 'style', 'speed'])
      expect(session.inputMetadata.map((m) => (m.isTensor ? [m.type, m.shape] : 'other'))).toEqual([
        ['int64', [1, 'tokens_len']],
        ['float32', [1, 256]],
        ['float32', [1]],
      ])
      expect(session.outputNames).toEqual(['audio'])
      const ids = kokoroIds('həlˈoʊ wˈɜːld. ')
      for (const speed of [1, 1.5, 0.8, 0.5, 2]) {
        const { dims, samples } = await runKokoro(session, ids, styleRow(2, ids.length - 2), speed)
        expect(dims).toEqual([samplesFor(ids.length, Math.fround(600 / Math.fround(speed)))])
        if (variant === 'identity') {
          expect(identityIds(samples, { kind: 'kokoro', speed }).runs).toEqual([{ ids, sid: 2, styleRow: ids.length - 2 }])
        } else {
          expect(peak(samples)).toBeLessThanOrEqual(1)
          expect(peak(samples)).toBeGreaterThan(0.2)
        }
      }
      if (variant === 'identity') {
        // A mix (weighted mean of the styles) shows as the mean of the voice indices.
        const mix = styleRow(0, 40).map((v, d) => (2 * v + styleRow(1, 40)[d]!) / 3)
        const read = identityIds(toS16((await runKokoro(session, ids, mix)).samples), { kind: 'kokoro' })
        expect(read.runs).toEqual([{ ids, sid: 0.333, styleRow: 40 }])
      } else {
        const base = (await runKokoro(session, ids, styleRow(0, 15))).samples
        expect((await runKokoro(session, ids, styleRow(1, 15))).samples).not.toEqual(base)
        expect((await runKokoro(session, kokoroIds('həlˈoʊ wˈɜːlt. '), styleRow(0, 15))).samples).not.toEqual(base)
      }
      await session.release()
    })
  }

  test('identityIds splits runs at each negative start, across silence an engine put between them', async () => {
    const { session } = await loadOnnxSession(tinyPiperFixture({ speakers: 3, variant: 'identity' }).model, { providers: ['cpu'], threads: 1 })
    const a = (await runPiper(session, [5, 9, 5, 0], { sid: 1 })).samples
    const b = (await runPiper(session, [5, 9, 200], { sid: 1 })).samples
    const joined = new Float32Array(a.length + 3000 + b.length + b.length)
    joined.set(a)
    joined.set(b, a.length + 3000)
    joined.set(b, a.length + 3000 + b.length) // back to back, no silence
    expect(identityIds(joined, { kind: 'piper' })).toMatchObject({ ids: [[5, 9, 5, 0], [5, 9, 200], [5, 9, 200]], sid: 1 })
    await session.release()
  })
})

describe('sherpa-onnx-node reads the fixtures as a Piper voice and a Kokoro model', () => {
  const text = 'Hello world. How are you?'
  const english = ['^_h_ə_l_ˈ_o_ʊ_ _w_ˈ_ɜ_ː_l_d_._$', '^_h_ˈ_a_ʊ_ _ɑ_ː_ɹ_ _j_u_ː_?_$']

  test('Piper identity, English: one run per sentence, the ids of `^ _ (p _)* $` through the voice’s map', async () => {
    const voice = tinyPiperFixture({ speakers: 1, variant: 'identity' })
    const { samples, sampleRate } = await sherpaSpeak({ kind: 'piper', ...voice, text })
    expect(sampleRate).toBe(22050)
    const read = identityIds(samples, { kind: 'piper' })
    expect(read.ids).toEqual(english.map((s) => piperIds(mapOf(voice.config), s)))
    expect(read.sid).toBe(0)
    expect(samples.length).toBe(read.ids.flat().length * 256)
  })

  test('Piper identity, German at 16 kHz: clause punctuation kept, `?` and `!` end sentences', async () => {
    const voice = tinyPiperFixture({ speakers: 1, variant: 'identity', language: 'de', sampleRate: 16000 })
    const { samples, sampleRate } = await sherpaSpeak({ kind: 'piper', ...voice, text: 'Guten Tag, wie geht es dir? Schön!' })
    expect(sampleRate).toBe(16000)
    expect(identityIds(samples, { kind: 'piper' }).ids).toEqual(
      ['^_ɡ_ˈ_u_ː_t_ə_n_ _t_ˈ_ɑ_ː_k_,_ _v_i_ː_ _ɡ_ˈ_e_ː_t_ _ɛ_s_ _d_ˈ_i_ː_ɾ_?_$', '^_ʃ_ˈ_ø_ː_n_!_$'].map((s) => piperIds(mapOf(voice.config), s)),
    )
  })

  test('Piper identity, 3 speakers: the sid sherpa fed reads back, and speed scales the samples per id', async () => {
    const voice = tinyPiperFixture({ speakers: 3, variant: 'identity' })
    for (const [sid, speed] of [[0, 1], [1, 1], [2, 0.7], [1, 1.6]] as const) {
      const { samples } = await sherpaSpeak({ kind: 'piper', ...voice, text, sid, speed })
      const read = identityIds(samples, { kind: 'piper', speed })
      expect(read.runs.map((r) => r.sid)).toEqual([sid, sid])
      expect(read.ids).toEqual(english.map((s) => piperIds(mapOf(voice.config), s)))
      expect(samples.length).toBe(read.ids.reduce((n, ids) => n + samplesFor(ids.length, Math.fround(256 * Math.fround(1 / speed))), 0))
    }
  })

  test('Piper random: audio in [-1, 1] at the voice’s rate', async () => {
    const voice = tinyPiperFixture({ speakers: 3, variant: 'random' })
    const { samples, sampleRate } = await sherpaSpeak({ kind: 'piper', ...voice, text, sid: 1 })
    expect(sampleRate).toBe(22050)
    expect(samples.length).toBe(english.reduce((n, s) => n + s.length, 0) * 256)
    expect(peak(samples)).toBeLessThanOrEqual(1)
    expect(peak(samples)).toBeGreaterThan(0.2)
  })

  test('Kokoro identity: [0, ids…, 0] per sentence (a space after "."), style row = tokens − 2, the voice sherpa chose', async () => {
    const model = tinyKokoroFixture({ variant: 'identity' })
    for (const sid of [1, 3]) {
      const { samples, sampleRate } = await sherpaSpeak({ kind: 'kokoro', ...model, voices: model.voicesBin, text, sid })
      expect(sampleRate).toBe(24000)
      const sentences = [kokoroIds('həlˈoʊ wˈɜːld. '), kokoroIds('hˈaʊ ɑːɹ juː?')]
      expect(identityIds(samples, { kind: 'kokoro' }).runs).toEqual(sentences.map((ids) => ({ ids, sid, styleRow: ids.length - 2 })))
    }
  })

  test('Kokoro random: audio in [-1, 1] at 24 kHz, ⌊L·600/speed⌋ per sentence', async () => {
    const model = tinyKokoroFixture({ variant: 'random' })
    const { samples } = await sherpaSpeak({ kind: 'kokoro', ...model, voices: model.voicesBin, text, speed: 1.25 })
    expect(samples.length).toBe(samplesFor(17, 480) + samplesFor(15, 480))
    expect(peak(samples)).toBeLessThanOrEqual(1)
    expect(peak(samples)).toBeGreaterThan(0.2)
  })

  test('the identity encoding stays inside (-1, 1), so it survives the s16 conversion', () => {
    expect(IDENTITY.BASE + 2 * IDENTITY.SPEAKER_STEP + 255 * IDENTITY.ID_STEP).toBeLessThan(1)
    expect(IDENTITY.BASE + 509 * IDENTITY.ID_STEP).toBeLessThan(1)
  })
})
