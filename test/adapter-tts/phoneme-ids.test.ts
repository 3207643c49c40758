import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { EspeakPhonemizer } from '../../packages/adapter-tts/src/espeak/espeak-phonemizer.ts'
import { resolveEspeak } from '../../packages/adapter-tts/src/espeak/resolve-espeak.ts'
import { KOKORO_MAX_TOKENS, kokoroPhonemes, kokoroTokenChunks, kokoroTokens } from '../../packages/adapter-tts/src/kokoro/kokoro-tokens.ts'
import { groupSentences, piperIds, piperPhonemes } from '../../packages/adapter-tts/src/piper/piper-ids.ts'
import { kokoroVocab } from '../fixtures/tts/kokoro-vocab.ts'
import { idsOf, piperPhonemeIdMap, type PiperLanguage } from '../fixtures/tts/piper-phonemes.ts'
import { identityIds, sherpaSpeak } from '../fixtures/tts/reference-sherpa-tts.ts'
import { tinyPiperFixture } from '../fixtures/tts/tts-fixtures.ts'

const en = piperPhonemeIdMap('en-us')
const vocab = kokoroVocab()

let espeak: EspeakPhonemizer
beforeAll(async () => {
  const found = await resolveEspeak()
  espeak = new EspeakPhonemizer({ library: found.library, dataPath: found.dataPath })
})
afterAll(() => espeak?.dispose())

describe('piperIds', () => {
  test('"Hello world. How are you?" per sentence: sherpa-onnx\'s ^ _ (p _)* $ (notes B1)', () => {
    const sentences = groupSentences(espeak.phonemize('Hello world. How are you?', 'en-us'))
    expect(sentences.map((s) => piperIds(s, en))).toEqual([
      idsOf(en, '^_h_ə_l_ˈ_o_ʊ_ _w_ˈ_ɜ_ː_l_d_._$'),
      idsOf(en, '^_h_ˈ_a_ʊ_ _ɑ_ː_ɹ_ _j_u_ː_?_$'),
    ])
  })

  test(',:; are kept with a space after and continue the sentence', () => {
    const clauses = [
      { phonemes: 'a', terminator: ',', endsSentence: false },
      { phonemes: 'b', terminator: ':', endsSentence: false },
      { phonemes: 'c', terminator: '', endsSentence: true },
    ]
    expect(piperPhonemes(clauses)).toBe('a, b: c')
    expect(piperIds(clauses, en)).toEqual(idsOf(en, '^_a_,_ _b_:_ _c_$'))
  })

  test('symbols missing from the map are skipped with their pad; each map value\'s ids all go in', () => {
    const map = { _: [0], '^': [1], $: [2], a: [5, 6] }
    expect(piperIds([{ phonemes: 'aZa', terminator: '' }], map)).toEqual([1, 0, 5, 6, 0, 5, 6, 0, 2])
  })

  test('NFD codepoints: a precomposed letter is its base and its combining mark', () => {
    const map = { _: [0], '^': [1], $: [2], e: [7], '\u0301': [8] }
    expect(piperIds([{ phonemes: 'é', terminator: '' }], map)).toEqual([1, 0, 7, 0, 8, 0, 2])
  })

  test('groupSentences: a trailing clause without an end still forms a sentence', () => {
    const a = { endsSentence: true }
    const b = { endsSentence: false }
    expect(groupSentences([a, b, b])).toEqual([[a], [b, b]])
  })
})

describe('kokoroTokens', () => {
  test('IPA with punctuation through the 114-symbol vocab, padded [0, …, 0]', () => {
    const phonemes = kokoroPhonemes(espeak.phonemize('Hello world. How are you?', 'en-us'))
    expect(phonemes).toBe('həlˈoʊ wˈɜːld. hˈaʊ ɑːɹ juː?')
    const ids = kokoroTokens(phonemes, vocab)
    expect(ids).toEqual([0, ...Array.from(phonemes, (symbol) => vocab[symbol]!), 0])
    expect(ids.slice(1, 4)).toEqual([50, 83, 54])
  })

  test('symbols outside the vocab are dropped', () => {
    expect(kokoroTokens('h#ə', vocab)).toEqual([0, 50, 83, 0])
    expect(kokoroTokens('', vocab)).toEqual([0, 0])
  })

  test(`at most ${KOKORO_MAX_TOKENS} tokens a run: longer is cut at a space within the cap`, () => {
    const word = 'ab'.repeat(50) // 100 symbols
    const phonemes = Array(6).fill(word).join(' ') // 605 symbols
    const chunks = kokoroTokenChunks(phonemes, vocab)
    expect(chunks.map((c) => c.length - 2)).toEqual([5 * 100 + 4, 100])
    for (const chunk of chunks) {
      expect(chunk[0]).toBe(0)
      expect(chunk.at(-1)).toBe(0)
      expect(chunk.length - 2).toBeLessThanOrEqual(KOKORO_MAX_TOKENS)
    }
    expect(() => kokoroTokens(phonemes, vocab)).toThrow(RangeError)
  })

  test('exactly the cap fits one run; a spaceless run past it is cut at the cap', () => {
    expect(kokoroTokenChunks('a'.repeat(KOKORO_MAX_TOKENS), vocab)).toHaveLength(1)
    expect(kokoroTokenChunks('a'.repeat(KOKORO_MAX_TOKENS + 3), vocab).map((c) => c.length - 2)).toEqual([KOKORO_MAX_TOKENS, 3])
  })
})

describe('Piper ids equal sherpa-onnx\'s (identity voices read back what each fed, per sentence)', () => {
  const cases: Array<[PiperLanguage, string]> = [
    ['en-us', 'Hello world. How are you, my friend? Fine: thanks; really! Wait... "Quoted." Done'],
    ['en-us', 'Hola ¿qué tal? So — yes. 你好，世界。 Wow！ End'],
    ['de', 'Guten Tag, wie geht es dir? Mir geht es gut. Schön!'],
  ]
  test.each(cases)('%s: %s', async (language, text) => {
    const voice = tinyPiperFixture({ speakers: 1, variant: 'identity', language })
    const map = JSON.parse(readFileSync(voice.config, 'utf8')).phoneme_id_map
    const { samples } = await sherpaSpeak({ kind: 'piper', model: voice.model, tokens: voice.tokens, text })
    const ours = groupSentences(espeak.phonemize(text, language)).map((sentence) => piperIds(sentence, map))
    expect(ours.length).toBeGreaterThan(2)
    expect(ours).toEqual(identityIds(samples, { kind: 'piper' }).ids)
  })
})
