import { BadRequestError, CancelledError, OutputChunk, ProviderError, type WorkerSink } from '@cy/core'
import type { Pointer } from 'bun:ffi'
import { WhisperNative } from '../native/whisper-native.ts'
import { segmentWords } from './segment-words.ts'
import type { EngineOptions, TranscribeArgs } from './transcribe-args.ts'

/** One decoder of a model: its own whisper state, on a context it loads or shares (by address). */
export class WhisperEngine {
  readonly native: WhisperNative
  readonly context: Pointer
  readonly state: Pointer
  readonly #ownsContext: boolean

  constructor(
    readonly options: EngineOptions,
    sharedContext?: number,
  ) {
    this.native = new WhisperNative(options.libDir, options.headerDirs)
    const context = sharedContext ? (sharedContext as Pointer) : this.native.init(options.modelPath, options.useGpu, options.flashAttention)
    if (!context) throw new ProviderError(`whisper.cpp could not load ${options.modelPath}: it is not a whisper model it supports, or it is damaged`)
    this.context = context
    this.#ownsContext = !sharedContext
    const state = this.native.newState(context)
    if (!state) throw new ProviderError('whisper.cpp could not create a decoding state')
    this.state = state
  }

  get multilingual(): boolean {
    return this.native.calls.whisper_is_multilingual(this.context) === 1
  }

  /** Decodes; segments (and words) go to `out` as whisper.cpp finishes them, the language and duration at the end. */
  transcribe(args: TranscribeArgs, out: WorkerSink): void {
    const native = this.native
    if (args.language !== 'auto' && native.calls.whisper_lang_id(new TextEncoder().encode(`${args.language}\0`)) < 0) {
      throw new BadRequestError(`Unknown language '${args.language}': use an ISO-639-1 code such as 'en'`, { param: 'language' })
    }
    const send = (index: number) => {
      const segment = native.segment(this.context, this.state, index)
      const logprobs = segment.tokens.map((t) => t.plog)
      out.push(
        OutputChunk.transcriptSegment({
          id: index,
          start: segment.start,
          end: segment.end,
          text: segment.text,
          tokens: segment.tokens.map((t) => t.id),
          avgLogprob: logprobs.length ? logprobs.reduce((a, b) => a + b, 0) / logprobs.length : 0,
          noSpeechProb: segment.noSpeechProb,
          temperature: args.temperature,
        }),
      )
      if (args.wordTimestamps) for (const word of segmentWords(segment.tokens)) out.push(OutputChunk.transcriptWord(word.word, word.start, word.end))
    }
    let sent = 0
    const code = native.transcribe(this.context, this.state, args.samples, { ...args, threads: this.options.threads }, out.abortFlag, (first, count) => {
      for (let i = first; i < first + count; i++) send(i)
      sent = first + count
    })
    // The shared flag stops whisper.cpp between its steps: a client that left costs no more decoding.
    if (out.aborted) throw new CancelledError('The transcription was cancelled')
    if (code !== 0) throw new ProviderError(`whisper.cpp failed to transcribe (${code})`)
    for (let i = sent; i < native.segmentCount(this.state); i++) send(i)
    out.push(OutputChunk.transcriptInfo({ language: native.language(this.state), duration: args.samples.length / 16_000 }))
  }

  dispose(): void {
    this.native.calls.whisper_free_state(this.state)
    if (this.#ownsContext) this.native.calls.whisper_free(this.context)
  }
}
