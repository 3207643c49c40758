import { resample } from '@cy/audio'
import { BadRequestError, CancelledError, OutputChunk, type WorkerSink } from '@cy/core'
import { loadOnnxSession } from '@cy/onnx'
import { EspeakError } from '../espeak/espeak-error.ts'
import { EspeakPhonemizer, type PhonemizedClause } from '../espeak/espeak-phonemizer.ts'
import { normalizeText } from '../text/normalize-text.ts'
import { splitSpeech } from '../text/split-text.ts'
import { KokoroSynthesizer } from './kokoro-synthesizer.ts'
import { pcmBytes } from './pcm.ts'
import { PiperSynthesizer } from './piper-synthesizer.ts'
import { speechRuns } from './speech-runs.ts'
import type { EngineInfo, EngineOptions, SpeakArgs } from './speak-args.ts'
import type { Synthesizer } from './synthesizer.ts'

/** A Piper voice or Kokoro model on one onnxruntime session, with the thread's espeak-ng phonemizer. */
export class TtsEngine {
  private constructor(
    readonly synthesizer: Synthesizer,
    readonly phonemizer: EspeakPhonemizer,
    readonly provider: string,
  ) {}

  static async load(options: EngineOptions, log: (line: string) => void = () => {}): Promise<TtsEngine> {
    const phonemizer = new EspeakPhonemizer(options.espeak)
    const { session, provider } = await loadOnnxSession(options.files.model, {
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.providers ? { providers: options.providers } : {}),
      log,
    }).catch((error) => {
      phonemizer.dispose()
      throw error
    })
    try {
      const files = options.files
      const synthesizer = files.kind === 'piper' ? await PiperSynthesizer.create(session, files.config, files.model) : await KokoroSynthesizer.create(session, files)
      return new TtsEngine(synthesizer, phonemizer, provider)
    } catch (error) {
      phonemizer.dispose()
      await session.release()
      throw error
    }
  }

  get info(): EngineInfo {
    const { kind, sampleRate, voices, session } = this.synthesizer
    return { kind, provider: this.provider, sampleRate, voices, espeakVersion: this.phonemizer.version, inputs: [...session.inputNames] }
  }

  /**
   * Speaks the input run by run (the first clause alone, then a sentence a run: see speechRuns), pushing each
   * run's audio as soon as it is made, with a pause before it that scales with 1/speed; a client that left
   * stops the work before the next piece. Then the usage: the phoneme ids (Piper) or tokens (Kokoro) fed.
   */
  async speak(args: SpeakArgs, out: WorkerSink): Promise<void> {
    const { synthesizer } = this
    const rate = args.sampleRate ?? synthesizer.sampleRate
    let fed = 0
    let previous: boolean | undefined
    for (const piece of speechRuns(splitSpeech(normalizeText(args.input, { language: args.language })))) {
      if (out.aborted) throw new CancelledError('The speech was cancelled')
      const clauses = this.#phonemize(piece.text, args.language)
      if (!clauses.some((clause) => clause.phonemes.trim())) continue
      const { samples, ids } = await synthesizer.synthesize(clauses, args)
      fed += ids.length
      const audio = rate === synthesizer.sampleRate ? samples : resample(samples, synthesizer.sampleRate, rate)
      const pauseMs = previous === undefined ? 0 : previous ? args.sentencePauseMs : args.clausePauseMs
      previous = piece.endsSentence
      if (out.aborted) throw new CancelledError('The speech was cancelled')
      out.push(OutputChunk.audio(pcmBytes(audio, Math.round((rate * pauseMs) / 1000 / args.speed)), 'pcm', rate, 1))
      // Lets the Worker's event loop run between pieces (a cancel's message, the reader's credit).
      await out.ready()
    }
    out.push(OutputChunk.usage(fed, 0))
  }

  /** An espeak voice that does not exist (a request's `language`) is the client's mistake. */
  #phonemize(text: string, language: string): PhonemizedClause[] {
    try {
      return this.phonemizer.phonemize(text, language)
    } catch (error) {
      if (error instanceof EspeakError) throw new BadRequestError(`Language '${language}': ${error.message}`, { param: 'language', code: 'unsupported_value' })
      throw error
    }
  }

  async dispose(): Promise<void> {
    this.phonemizer.dispose()
    await this.synthesizer.session.release()
  }
}
