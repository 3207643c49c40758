import createTtsAdapter, { parseTtsOptions, parseVoiceMix, readNpz, TTS_SUPPORTS, TtsModelError, type EngineInfo } from '@cy/adapter-tts'
import createSenseVoiceAdapter from '@cy/adapter-sensevoice'
import { BadRequestError, type SpeechRequest } from '@cy/core'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateRawSync } from 'node:zlib'
import { requestArgs } from '../../packages/adapter-tts/src/request-args.ts'
import { readKokoroVocab } from '../../packages/adapter-tts/src/voices/kokoro-vocab.ts'
import { readKokoroVoices } from '../../packages/adapter-tts/src/voices/kokoro-voices.ts'
import { parsePiperConfig } from '../../packages/adapter-tts/src/voices/piper-config.ts'
import { selectVoice } from '../../packages/adapter-tts/src/voices/select-voice.ts'
import { claimTts } from '../../packages/adapter-tts/src/voices/tts-files.ts'
import type { VoiceEntry } from '../../packages/adapter-tts/src/voices/voice-entry.ts'
import { tinySenseVoiceFixture } from '../fixtures/sensevoice/sensevoice-fixtures.ts'
import { kokoroVocab } from '../fixtures/tts/kokoro-vocab.ts'
import { npyFloat32 } from '../fixtures/tts/numpy-npz.ts'
import { KOKORO_VOICES, kokoroVoiceStyles, tinyKokoroMetadata } from '../fixtures/tts/tiny-kokoro.ts'
import { PIPER_SPEAKERS, tinyPiperConfig } from '../fixtures/tts/tiny-piper.ts'
import { tinyKokoroFixture, tinyPiperFixture } from '../fixtures/tts/tts-fixtures.ts'

/** A zip whose entries are deflated (np.savez_compressed), the offsets given through zip64 extras as numpy's writer does. */
function deflatedZip(entries: Array<{ name: string; data: Uint8Array }>): Uint8Array {
  const parts: Uint8Array[] = []
  const centrals: Uint8Array[] = []
  let offset = 0
  for (const { name, data } of entries) {
    const nameBytes = new TextEncoder().encode(name)
    const packed = new Uint8Array(deflateRawSync(data))
    const local = new Uint8Array(30 + nameBytes.length)
    const l = new DataView(local.buffer)
    l.setUint32(0, 0x04034b50, true)
    l.setUint16(8, 8, true)
    l.setUint32(18, packed.length, true)
    l.setUint32(22, data.length, true)
    l.setUint16(26, nameBytes.length, true)
    local.set(nameBytes, 30)
    const central = new Uint8Array(46 + nameBytes.length + 12)
    const c = new DataView(central.buffer)
    c.setUint32(0, 0x02014b50, true)
    c.setUint16(10, 8, true)
    c.setUint32(20, packed.length, true)
    c.setUint32(24, data.length, true)
    c.setUint16(28, nameBytes.length, true)
    c.setUint16(30, 12, true)
    c.setUint32(42, 0xffffffff, true)
    central.set(nameBytes, 46)
    c.setUint16(46 + nameBytes.length, 0x0001, true)
    c.setUint16(48 + nameBytes.length, 8, true)
    c.setBigUint64(50 + nameBytes.length, BigInt(offset), true)
    parts.push(local, packed)
    centrals.push(central)
    offset += local.length + packed.length
  }
  const size = centrals.reduce((n, b) => n + b.length, 0)
  const end = new Uint8Array(22)
  const e = new DataView(end.buffer)
  e.setUint32(0, 0x06054b50, true)
  e.setUint16(8, entries.length, true)
  e.setUint16(10, entries.length, true)
  e.setUint32(12, size, true)
  e.setUint32(16, offset, true)
  return new Uint8Array(Buffer.concat([...parts, ...centrals, end]))
}

describe('voice files', () => {
  test(".onnx.json: rate, espeak voice, inference scales, phoneme_id_map and the speakers in sid order", () => {
    const json = tinyPiperConfig({ speakers: 3, variant: 'random', language: 'de', sampleRate: 16000 })
    const config = parsePiperConfig(JSON.stringify({ ...json, inference: { noise_scale: 0.5, length_scale: 1.2, noise_w: 0.7 } }), 'v.onnx.json')
    expect(config).toMatchObject({ sampleRate: 16000, espeakVoice: 'de', noiseScale: 0.5, lengthScale: 1.2, noiseW: 0.7, numSpeakers: 3, language: 'de_DE' })
    expect(Object.entries(config.speakers)).toEqual(Object.entries(PIPER_SPEAKERS))
    expect(config.phonemeIdMap).toEqual(json.phoneme_id_map)
    // sherpa-onnx's fix of the 22500 typo in some voices.
    expect(parsePiperConfig(JSON.stringify({ ...json, audio: { sample_rate: 22500 } }), 'v').sampleRate).toBe(22050)
  })

  test('.onnx.json that cannot be used: other phoneme types, no map, not JSON', () => {
    const json = tinyPiperConfig({ speakers: 1, variant: 'random' })
    expect(() => parsePiperConfig(JSON.stringify({ ...json, phoneme_type: 'pinyin' }), 'v')).toThrow("phoneme_type 'pinyin' is not supported")
    expect(() => parsePiperConfig(JSON.stringify({ ...json, phoneme_id_map: undefined }), 'v')).toThrow('no phoneme_id_map')
    expect(() => parsePiperConfig('{', 'v')).toThrow(TtsModelError)
  })

  test("Kokoro voices: sherpa's raw voices.bin named by speaker_names, kokoro-onnx's .npz (stored or deflated)", async () => {
    const fixture = tinyKokoroFixture({ variant: 'random' })
    const metadata = tinyKokoroMetadata('random')
    const fromBin = await readKokoroVoices(fixture.voicesBin, metadata)
    const fromNpz = await readKokoroVoices(fixture.voicesNpz, {})
    for (const voices of [fromBin, fromNpz]) {
      expect(voices.map((voice) => voice.name)).toEqual([...KOKORO_VOICES])
      voices.forEach((voice, i) => expect(voice.styles).toEqual(kokoroVoiceStyles(i)))
    }
    const npy = (i: number) => npyFloat32(kokoroVoiceStyles(i), [510, 1, 256])
    const deflated = readNpz(deflatedZip([{ name: 'af_a.npy', data: npy(0) }, { name: 'bm_b.npy', data: npy(1) }]), 'x.npz')
    expect([...deflated.keys()]).toEqual(['af_a', 'bm_b'])
    expect(deflated.get('bm_b')).toEqual({ shape: [510, 1, 256], data: kokoroVoiceStyles(1) })
    await expect(readKokoroVoices(fixture.voicesBin, { ...metadata, speaker_names: 'a,b' })).rejects.toThrow('4 voices but the model')
  })

  test("Kokoro's vocabulary from tokens.txt (a space among its symbols) or config.json", async () => {
    const fixture = tinyKokoroFixture({ variant: 'random' })
    expect(await readKokoroVocab(fixture.tokens)).toEqual(kokoroVocab())
    expect(await readKokoroVocab(fixture.config)).toEqual(kokoroVocab())
    expect(kokoroVocab()[' ']).toBeDefined()
  })
})

describe('claiming from the models folder', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cy-tts-claim-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  test('a Piper voice by its .onnx.json; a Kokoro model by its inputs and voices file; SenseVoice files never', async () => {
    const piper = tinyPiperFixture({ speakers: 1, variant: 'random' })
    const kokoro = tinyKokoroFixture({ variant: 'random' })
    const sensevoice = tinySenseVoiceFixture({ variant: 'scripted' })
    expect(await claimTts(piper.model)).toEqual({ claim: true, kind: 'piper', model: piper.model, config: piper.config })
    expect(await claimTts(kokoro.model)).toEqual({ claim: true, kind: 'kokoro', model: kokoro.model, voices: kokoro.voicesBin, vocab: kokoro.tokens })
    const head = async (path: string) => new Uint8Array(await Bun.file(path).slice(0, 64).arrayBuffer())
    const tts = createTtsAdapter()
    const stt = createSenseVoiceAdapter()
    expect(await tts.canLoad(sensevoice.model, await head(sensevoice.model))).toMatchObject({ claim: false, reason: expect.stringContaining('not a Piper voice') })
    expect(await stt.canLoad(piper.model, await head(piper.model))).toMatchObject({ claim: false })
    expect(await stt.canLoad(kokoro.model, await head(kokoro.model))).toMatchObject({ claim: false })
  })

  test("kokoro-onnx's layout: voices-v1.0.bin (an .npz) and config.json beside the model", async () => {
    const kokoro = tinyKokoroFixture({ variant: 'random' })
    const model = join(dir, 'kokoro-v1.0.onnx')
    await copyFile(kokoro.model, model)
    expect(await claimTts(model)).toMatchObject({ claim: false, reason: expect.stringContaining('no voices file') })
    await copyFile(kokoro.voicesNpz, join(dir, 'voices-v1.0.bin'))
    await copyFile(kokoro.config, join(dir, 'config.json'))
    const claim = await claimTts(model)
    expect(claim).toEqual({ claim: true, kind: 'kokoro', model, voices: join(dir, 'voices-v1.0.bin'), vocab: join(dir, 'config.json') })
    const voices = await readKokoroVoices(join(dir, 'voices-v1.0.bin'), {})
    expect(voices.map((voice) => voice.name)).toEqual([...KOKORO_VOICES])
  })

  test('not ONNX, or a broken .onnx.json beside it: not claimed, with the reason', async () => {
    const piper = tinyPiperFixture({ speakers: 1, variant: 'random' })
    const model = join(dir, 'broken.onnx')
    await copyFile(piper.model, model)
    await writeFile(`${model}.json`, JSON.stringify({ phoneme_type: 'text' }))
    expect(await claimTts(model)).toMatchObject({ claim: false, reason: expect.stringContaining("phoneme_type 'text'") })
    expect(await claimTts(piper.config)).toMatchObject({ claim: false, reason: 'not an ONNX file (.onnx)' })
  })
})

describe('choosing a voice', () => {
  const piper: VoiceEntry[] = Object.entries(PIPER_SPEAKERS).map(([id, sid]) => ({ id, name: id, language: 'en-us', sid }))
  const kokoro: VoiceEntry[] = KOKORO_VOICES.map((id) => ({ id, name: id, language: id.startsWith('b') ? 'en-gb' : 'en-us' }))

  test('a mix: names with weights (1 where none), normalized', () => {
    expect(parseVoiceMix('af_bella(2)+af_sky(1)')).toEqual([
      { name: 'af_bella', weight: 2 },
      { name: 'af_sky', weight: 1 },
    ])
    expect(parseVoiceMix('af_bella + af_sky(0.5)')).toEqual([
      { name: 'af_bella', weight: 1 },
      { name: 'af_sky', weight: 0.5 },
    ])
    expect(parseVoiceMix('af_bella(x)')).toBeUndefined()
    expect(selectVoice('k', 'af_sky(3)+bf_emma(1)', 'kokoro', kokoro, {})).toEqual({
      choice: { kind: 'kokoro', mix: [{ index: 1, weight: 0.75 }, { index: 3, weight: 0.25 }] },
      language: 'en-us',
    })
  })

  test("a speaker by name; OpenAI's names to the aliased voice, else the first", () => {
    expect(selectVoice('p', 'ivy', 'piper', piper, {}).choice).toEqual({ kind: 'piper', sid: 2 })
    expect(selectVoice('p', 'alloy', 'piper', piper, {}).choice).toEqual({ kind: 'piper', sid: 0 })
    expect(selectVoice('p', 'nova', 'piper', piper, { nova: 'kai' }).choice).toEqual({ kind: 'piper', sid: 1 })
    expect(selectVoice('k', 'echo', 'kokoro', kokoro, { echo: 'bf_emma' })).toEqual({ choice: { kind: 'kokoro', mix: [{ index: 3, weight: 1 }] }, language: 'en-gb' })
  })

  test('an unknown voice (or mix part, or a mix on a Piper voice) is a 400 on voice listing the voices', () => {
    for (const [voice, voices, kind] of [
      ['nobody', piper, 'piper'],
      ['nora(1)+kai(1)', piper, 'piper'],
      ['af_bella+zz_none', kokoro, 'kokoro'],
      ['af_bella(0)', kokoro, 'kokoro'],
    ] as const) {
      let error: unknown
      try {
        selectVoice('m', voice, kind, voices, {})
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(BadRequestError)
      expect((error as BadRequestError).param).toBe('voice')
    }
    expect(() => selectVoice('m', 'nobody', 'piper', piper, {})).toThrow('its voices are nora, kai, ivy')
  })

  test('options: defaults, and a voiceAliases that is not a map is refused', () => {
    expect(parseTtsOptions({})).toEqual({ isolation: 'process', voiceAliases: {}, sentencePauseMs: 250, clausePauseMs: 120, maxInputChars: 4096 })
    expect(parseTtsOptions({ threads: 2, isolation: 'worker', espeakLib: '/x/libespeak-ng.so.1', voiceAliases: { alloy: 'kai' } })).toMatchObject({ threads: 2, isolation: 'worker', espeakLib: '/x/libespeak-ng.so.1', voiceAliases: { alloy: 'kai' } })
    expect(() => parseTtsOptions({ voiceAliases: ['kai'] })).toThrow("tts option 'voiceAliases' must map voice names")
  })
})

describe('request fields', () => {
  const info: EngineInfo = { kind: 'piper', provider: 'cpu', sampleRate: 22050, voices: [{ id: 'v', name: 'v', language: 'en-us' }], espeakVersion: '1.51', inputs: [] }
  const options = parseTtsOptions({})
  const request = (extra: Record<string, unknown>) => ({ model: 'm', input: 'Hi.', voice: 'v', ...extra }) as SpeechRequest
  const param = (extra: Record<string, unknown>, kind: 'piper' | 'kokoro' = 'piper') => {
    try {
      requestArgs('m', request(extra), options, { ...info, kind })
    } catch (error) {
      return (error as BadRequestError).param
    }
  }

  test('speed, language, sample_rate, noise_scale and noise_w reach the engine', () => {
    expect(requestArgs('m', request({ speed: 2, language: 'de', sample_rate: 16000, noise_scale: 0.3, noise_w: 0.4 }), options, info)).toMatchObject({
      speed: 2,
      language: 'de',
      sampleRate: 16000,
      noiseScale: 0.3,
      noiseW: 0.4,
    })
    // The model's own rate: nothing to resample.
    expect(requestArgs('m', request({ sample_rate: 22050 }), options, info).sampleRate).toBeUndefined()
  })

  test('out-of-range values are 400s on their field; Kokoro speaks en-us and en-gb only', () => {
    expect(param({ sample_rate: 100 })).toBe('sample_rate')
    expect(param({ noise_scale: -1 })).toBe('noise_scale')
    expect(param({ language: 'de' }, 'kokoro')).toBe('language')
    expect(param({ language: 'en-gb' }, 'kokoro')).toBeUndefined()
    expect(param({ input: 'x'.repeat(4097) })).toBe('input')
  })

  test('Piper declares the noise scales; Kokoro does not', () => {
    expect(TTS_SUPPORTS.piper).toContain('noise_w')
    expect(TTS_SUPPORTS.kokoro).not.toContain('noise_scale')
  })
})
