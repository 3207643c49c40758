import { clauseTerminator } from './clause-terminator.ts'
import { EspeakError } from './espeak-error.ts'
import { EspeakLock } from './espeak-lock.ts'
import { EspeakNative } from './espeak-native.ts'

export interface PhonemizedClause {
  /** espeak's IPA for the clause, language-switch flags like "(en)" removed. */
  phonemes: string
  /** The clause's punctuation ('.', '?', '!', ',', ':', ';'), or '' when it had none. */
  terminator: string
  /** `.?!` and the text's end close a sentence; `,:;` continue it. */
  endsSentence: boolean
}

export interface EspeakPhonemizerOptions {
  /** A library path or soname (see resolveEspeak). */
  library: string
  /** The espeak-ng-data folder (see resolveEspeak). */
  dataPath: string
  /** The process's espeak lock, when other threads of the process phonemize too (see EspeakLock). */
  lock?: SharedArrayBuffer
}

/** "(en)" / "(fr)": espeak marks a switch to another language's rules; Piper and Kokoro drop them. */
const LANGUAGE_FLAG = /\([a-z]{2,3}(?:-[a-z0-9]+)*\)/gi

let live = false

/**
 * espeak-ng stays initialized for the life of the process: 1.51's espeak_Terminate hangs once espeak was
 * initialized a second time, so a phonemizer disposed and opened again reuses the running one (and
 * re-initializes only for another library or data folder).
 */
let running: { key: string; native: EspeakNative; sampleRate: number } | undefined

function started(options: EspeakPhonemizerOptions): { native: EspeakNative; sampleRate: number } {
  const key = `${options.library}\0${options.dataPath}`
  if (running?.key !== key) {
    const native = running?.native.library === options.library ? running.native : new EspeakNative(options.library)
    running = { key, native, sampleRate: native.initialize(options.dataPath) }
  }
  return running
}

/**
 * Text to IPA clauses through libespeak-ng. espeak is process-global and not thread-safe, so a thread
 * holds at most one (the engine Worker's), and calls on it run one at a time by construction.
 */
export class EspeakPhonemizer {
  readonly version: string
  readonly dataPath: string
  readonly sampleRate: number
  readonly #native: EspeakNative
  readonly #lock: EspeakLock
  #voice: string | undefined
  /** The process's count of voice changes when this one last set its voice. */
  #voiceSetAt = -1
  #disposed = false

  constructor(options: EspeakPhonemizerOptions) {
    if (live) throw new EspeakError('An EspeakPhonemizer is already open in this thread: espeak-ng keeps one state per process')
    this.#lock = new EspeakLock(options.lock)
    const { native, sampleRate } = this.#lock.hold(() => started(options))
    this.#native = native
    this.sampleRate = sampleRate
    const info = this.#native.info()
    this.version = info.version
    this.dataPath = info.dataPath
    live = true
  }

  /** The clauses of `text` in voice `voice` (an espeak voice name: "en-us", "de", "fr-fr"). */
  phonemize(text: string, voice: string): PhonemizedClause[] {
    if (this.#disposed) throw new EspeakError('This EspeakPhonemizer was disposed')
    const raw = this.#lock.hold(() => {
      // Another thread of the process may have set its own voice since: set this one's again then.
      if (voice !== this.#voice || this.#lock.voiceChanges !== this.#voiceSetAt) {
        this.#setVoice(voice)
        this.#voice = voice
        this.#voiceSetAt = this.#lock.changedVoice()
      }
      return this.#native.textToPhonemes(text)
    })
    const clauses = raw
      .map((clause) => ({ phonemes: clause.phonemes.replace(LANGUAGE_FLAG, ''), ...clauseTerminator(clause.text) }))
      .filter((clause) => clause.phonemes.trim() || clause.terminator)
    // The text's end closes its last sentence, punctuated or not.
    const last = clauses.at(-1)
    if (last) last.endsSentence = true
    return clauses
  }

  /**
   * Sets an espeak voice by name, else by its language alone: Debian's espeak-ng 1.51 has no voice named
   * `en-gb` or `fr-fr` (Kokoro's and Piper's names) but speaks them as `en` and `fr`.
   */
  #setVoice(voice: string): void {
    try {
      this.#native.setVoice(voice)
    } catch (error) {
      const language = voice.split('-')[0]!
      if (language === voice) throw error
      this.#native.setVoice(language)
    }
  }

  dispose(): void {
    if (this.#disposed) return
    this.#disposed = true
    // espeak itself keeps running (see `running`); the next phonemizer sets its voice afresh.
    live = false
  }
}
