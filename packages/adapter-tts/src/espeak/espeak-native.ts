import { type Calls } from '@cy/native'
import { CString, dlopen, ptr, type Pointer } from 'bun:ffi'
import {
  AUDIO_OUTPUT_SYNCHRONOUS,
  EE_OK,
  ESPEAK_CHARS_UTF8,
  ESPEAK_INITIALIZE_DONT_EXIT,
  ESPEAK_PHONEMES_IPA,
  ESPEAK_SYMBOLS,
} from './espeak-symbols.ts'
import { EspeakError } from './espeak-error.ts'

/** One clause as espeak cut it: its IPA and the source text it covered (punctuation included). */
export interface NativeClause {
  phonemes: string
  text: string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const cstring = (text: string) => encoder.encode(`${text}\0`)

/** The byte offset where the UTF-8 character ending just before `end` starts. */
function previousCharStart(bytes: Uint8Array, end: number): number {
  let at = end - 1
  while (at > 0 && ((bytes[at] ?? 0) & 0xc0) === 0x80) at--
  return Math.max(at, 0)
}

/**
 * The typed wrapper over libespeak-ng: every pointer and C string lives here, so the phonemizer above
 * speaks in strings. espeak keeps its state in process globals: one instance per process, used by one thread.
 */
export class EspeakNative {
  readonly calls: Calls<ReturnType<typeof dlopen<typeof ESPEAK_SYMBOLS>>['symbols']>
  /** espeak_TextToPhonemes dereferences the current voice's translator: without one it crashes the process. */
  #hasVoice = false

  /** `library` is a path or a soname the loader finds (libespeak-ng.so.1). */
  constructor(readonly library: string) {
    // Never closed: espeak's state is process-global and outlives any one phonemizer.
    this.calls = dlopen(library, ESPEAK_SYMBOLS).symbols as typeof this.calls
  }

  /** The library's version ("1.51") and the data folder it uses (empty before initialize). */
  info(): { version: string; dataPath: string } {
    const cell = new BigUint64Array(1)
    const version = this.calls.espeak_Info(ptr(cell))
    const dataPath = cell[0] ? new CString(Number(cell[0]) as Pointer).toString() : ''
    return { version: version ? new CString(version).toString() : '', dataPath }
  }

  /**
   * Starts espeak on a data folder (undefined: where the library looks by itself). Returns the sample rate.
   * 1.51 falls back to its built-in folder when `dataPath` does not exist, so callers check the folder first.
   */
  initialize(dataPath: string | undefined): number {
    const path = dataPath === undefined ? null : cstring(dataPath)
    const rate = this.calls.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, path ? ptr(path) : null, ESPEAK_INITIALIZE_DONT_EXIT)
    if (rate <= 0) throw new EspeakError(`espeak-ng failed to initialize${dataPath ? ` on ${dataPath}` : ''} (code ${rate})`)
    this.#hasVoice = false
    return rate
  }

  setVoice(name: string): void {
    const code = this.calls.espeak_SetVoiceByName(ptr(cstring(name)))
    if (code !== EE_OK) throw new EspeakError(`espeak-ng has no voice "${name}" (code ${code})`)
    this.#hasVoice = true
  }

  /**
   * Every clause of `text` in IPA. espeak_TextToPhonemes converts one clause per call and moves the
   * in-out text pointer one UTF-8 character into the next clause (NULL after the last), so each clause's
   * source text is the span up to the character before where it stopped.
   */
  textToPhonemes(text: string): NativeClause[] {
    if (!this.#hasVoice) throw new EspeakError('espeak-ng has no voice set: call setVoice first')
    const bytes = cstring(text)
    const end = bytes.length - 1
    const base = BigInt(ptr(bytes))
    // The `const void **textptr` cell espeak reads and advances.
    const cell = new BigUint64Array([base])
    const at = () => cell[0] ?? 0n
    const clauses: NativeClause[] = []
    let start = 0
    let last = -1n
    // A pointer that stopped moving would loop forever: stop there (espeak has consumed what it will).
    while (at() !== 0n && at() > last && start < end) {
      last = at()
      const result = this.calls.espeak_TextToPhonemes(ptr(cell), ESPEAK_CHARS_UTF8, ESPEAK_PHONEMES_IPA)
      const phonemes = result ? new CString(result).toString() : ''
      const stop = at() === 0n ? end : previousCharStart(bytes, Number(at() - base))
      clauses.push({ phonemes, text: decoder.decode(bytes.subarray(start, Math.max(stop, start))) })
      start = stop
    }
    return clauses
  }
}
