import { NoLibraryFoundError } from '../../packages/native/src/index.ts'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { clauseTerminator } from '../../packages/adapter-tts/src/espeak/clause-terminator.ts'
import { EspeakError } from '../../packages/adapter-tts/src/espeak/espeak-error.ts'
import { EspeakNative } from '../../packages/adapter-tts/src/espeak/espeak-native.ts'
import { EspeakPhonemizer } from '../../packages/adapter-tts/src/espeak/espeak-phonemizer.ts'
import { resolveEspeak, type ResolvedEspeak } from '../../packages/adapter-tts/src/espeak/resolve-espeak.ts'

let found: ResolvedEspeak
let espeak: EspeakPhonemizer

beforeAll(async () => {
  found = await resolveEspeak()
  espeak = new EspeakPhonemizer({ library: found.library, dataPath: found.dataPath })
})
afterAll(() => espeak?.dispose())

describe('resolveEspeak', () => {
  test('finds the system libespeak-ng (at least 1.51) and its data folder', () => {
    expect(found.source).toBe(process.env.CY_ESPEAK_LIB ? 'CY_ESPEAK_LIB' : 'system')
    expect(Number(found.version.split('.')[1])).toBeGreaterThanOrEqual(51)
    expect(found.dataPath).toMatch(/espeak-ng-data$/)
    expect(espeak.version).toBe(found.version)
    expect(espeak.dataPath).toBe(found.dataPath)
  })

  test('a library that is not there: NoLibraryFoundError naming what was tried and how to install it', async () => {
    const error = await resolveEspeak({ espeakLib: '/nonexistent/libespeak-ng.so.1' }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(NoLibraryFoundError)
    expect((error as Error).message).toContain('espeakLib (/nonexistent/libespeak-ng.so.1)')
    expect((error as Error).message).toContain('apt-get install libespeak-ng1 espeak-ng-data')
    expect((error as Error).message).not.toContain('    at ')
  })

  test('a library that is not espeak-ng is refused by its smoke test', async () => {
    const error = await resolveEspeak({ espeakLib: 'libm.so.6' }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(NoLibraryFoundError)
    expect((error as Error).message).toContain('espeak_Initialize')
  })

  test('a data folder without espeak-ng-data: EspeakError naming the folder', async () => {
    const error = await resolveEspeak({ espeakData: '/tmp' }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(EspeakError)
    expect((error as Error).message).toContain('espeakData: /tmp has no phontab')
    expect((error as Error).message).toContain('ESPEAK_DATA_PATH')
  })
})

describe('EspeakPhonemizer', () => {
  test('"Hello world. How are you?" in en-us: the IPA sherpa-onnx feeds Piper, each clause with its terminator', () => {
    expect(espeak.phonemize('Hello world. How are you?', 'en-us')).toEqual([
      { phonemes: 'həlˈoʊ wˈɜːld', terminator: '.', endsSentence: true },
      { phonemes: 'hˈaʊ ɑːɹ juː', terminator: '?', endsSentence: true },
    ])
  })

  test('terminators recovered from how far espeak advanced: ,:; continue a sentence, .?! end it, quotes skipped', () => {
    const clauses = espeak.phonemize('Hi, there: one; two! He said "stop." Then left', 'en-us')
    expect(clauses.map((c) => [c.terminator, c.endsSentence])).toEqual([
      [',', false], [':', false], [';', false], ['!', true], ['.', true], ['', true],
    ])
    expect(clauses.at(-1)?.phonemes).toBe('ðˈɛn lˈɛft')
  })

  test('German and French voices, multi-byte text, language-switch flags dropped', () => {
    expect(espeak.phonemize('Guten Tag, wie geht es dir? Schön.', 'de')).toEqual([
      { phonemes: 'ɡˈuːtən tˈɑːk', terminator: ',', endsSentence: false },
      { phonemes: 'viː ɡˈeːt ɛs dˈiːɾ', terminator: '?', endsSentence: true },
      { phonemes: 'ʃˈøːn', terminator: '.', endsSentence: true },
    ])
    // espeak writes "lə- (en)wiːkˈɛnd(fr)" for the English word.
    expect(espeak.phonemize('Le weekend, je lis.', 'fr')).toEqual([
      { phonemes: 'lə- wiːkˈɛnd', terminator: ',', endsSentence: false },
      { phonemes: 'ʒə- lˈi', terminator: '.', endsSentence: true },
    ])
  })

  test('full-width punctuation cuts clauses and sentences but appends no mark (as piper-phonemize on 1.51)', () => {
    const clauses = espeak.phonemize('你好，世界。今天好吗？', 'cmn')
    expect(clauses.map((c) => [c.terminator, c.endsSentence])).toEqual([['', false], ['', true], ['', true]])
  })

  test('an unknown voice is an EspeakError, and the phonemizer still works afterwards', () => {
    expect(() => espeak.phonemize('Hello.', 'xx-nope')).toThrow(EspeakError)
    expect(espeak.phonemize('Hello.', 'en-us')[0]?.phonemes).toBe('həlˈoʊ')
  })

  test("a voice 1.51 does not name (Kokoro's en-gb, Piper's fr-fr) speaks as its language", () => {
    // Debian's 1.51 has no voice called en-gb: British English is its `en`.
    expect(espeak.phonemize('Hello.', 'en-gb')).toEqual(espeak.phonemize('Hello.', 'en'))
    expect(espeak.phonemize('Bonjour.', 'fr-fr')).toEqual(espeak.phonemize('Bonjour.', 'fr'))
    expect(espeak.phonemize('Hello.', 'en-gb')).not.toEqual(espeak.phonemize('Hello.', 'en-us'))
  })

  test('empty text gives no clauses', () => {
    expect(espeak.phonemize('', 'en-us')).toEqual([])
  })

  test('disposed and opened again, in a process that then exits (1.51 hung in espeak_Terminate after a second start)', async () => {
    const source = `
      import { EspeakPhonemizer } from ${JSON.stringify(new URL('../../packages/adapter-tts/src/espeak/espeak-phonemizer.ts', import.meta.url).pathname)}
      const options = ${JSON.stringify({ library: found.library, dataPath: found.dataPath })}
      for (let i = 0; i < 2; i++) {
        const espeak = new EspeakPhonemizer(options)
        console.log(espeak.phonemize('Hi.', 'en-us')[0].phonemes)
        espeak.dispose()
        let refused = false
        try { espeak.phonemize('Hi.', 'en-us') } catch { refused = true }
        console.log(refused)
      }`
    const child = Bun.spawn([process.execPath, '-e', source], { stdout: 'pipe', stderr: 'inherit' })
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    const [code, stdout] = await Promise.all([child.exited, new Response(child.stdout).text()])
    clearTimeout(timer)
    expect(stdout.trim().split('\n')).toEqual(['hˈaɪ', 'true', 'hˈaɪ', 'true'])
    expect(code).toBe(0)
  })

  test('one phonemizer per thread: espeak-ng state is process-global', () => {
    expect(() => new EspeakPhonemizer({ library: found.library, dataPath: found.dataPath })).toThrow(/already open/)
  })
})

describe('EspeakNative', () => {
  test('phonemizing before a voice is set is refused (espeak would dereference a null translator)', () => {
    // The process already initialized espeak above; a second handle on the same library shares its state.
    const native = new EspeakNative(found.library)
    expect(() => native.textToPhonemes('x')).toThrow(/no voice set/)
  })
})

describe('clauseTerminator', () => {
  test.each([
    ['Hello world. ', '.', true],
    ['wait... ', '', false],
    ['wait… ', '', false],
    ['so — ', ';', false],
    ['Hola ¿', '', false],
    ['"Really?" ', '?', true],
    ['Wow！', '', true],
    ['你好，', '', false],
    ['no mark ', '', false],
  ])('%p → %p', (text, terminator, endsSentence) => {
    expect(clauseTerminator(text)).toEqual({ terminator, endsSentence })
  })
})
