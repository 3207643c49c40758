import { BadRequestError, CancelledError, OutputChunk, ProviderError, serveWorker, type WorkerSink } from '@cy/core'
import type { Pointer } from 'bun:ffi'
import { WhisperNative } from '../native/whisper-native.ts'
import { segmentWords } from './segment-words.ts'
import type { EngineOptions, TranscribeArgs } from './transcribe-args.ts'

// One engine Worker of a model's pool: its own whisper state, the model's context shared by address.
let native: WhisperNative | undefined
let context: Pointer | undefined
let state: Pointer | undefined
let ownsContext = false
let threads = 1

serveWorker({
  load(options: EngineOptions & { sharedContext?: number }) {
    native = new WhisperNative(options.libDir, options.headerDirs)
    threads = options.threads
    if (options.sharedContext) context = options.sharedContext as Pointer
    else {
      context = native.init(options.modelPath, options.useGpu, options.flashAttention) ?? undefined
      if (!context) throw new ProviderError(`whisper.cpp could not load ${options.modelPath}: it is not a whisper model it supports, or it is damaged`)
      ownsContext = true
    }
    state = native.newState(context) ?? undefined
    if (!state) throw new ProviderError('whisper.cpp could not create a decoding state')
    return { context: Number(context), multilingual: native.calls.whisper_is_multilingual(context) === 1, version: native.version }
  },

  transcribe(args: TranscribeArgs, out: WorkerSink) {
    if (!native || !context || !state) throw new ProviderError('The model is not loaded')
    const engine = native
    if (args.language !== 'auto' && engine.calls.whisper_lang_id(new TextEncoder().encode(`${args.language}\0`)) < 0) {
      throw new BadRequestError(`Unknown language '${args.language}': use an ISO-639-1 code such as 'en'`, { param: 'language' })
    }
    const ctx = context
    const st = state
    const send = (index: number) => {
      const segment = engine.segment(ctx, st, index)
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
    const code = engine.transcribe(ctx, st, args.samples, { ...args, threads }, out.abortFlag, (first, count) => {
      // Segments go out as whisper.cpp finishes them, so a stream shows text before the end.
      for (let i = first; i < first + count; i++) send(i)
      sent = first + count
    })
    if (out.aborted) throw new CancelledError('The transcription was cancelled')
    if (code !== 0) throw new ProviderError(`whisper.cpp failed to transcribe (${code})`)
    for (let i = sent; i < engine.segmentCount(st); i++) send(i)
    out.push(OutputChunk.transcriptInfo({ language: engine.language(st), duration: args.samples.length / 16_000 }))
  },

  dispose() {
    if (native && state) native.calls.whisper_free_state(state)
    if (native && context && ownsContext) native.calls.whisper_free(context)
    native = undefined
    context = undefined
    state = undefined
  },
})
