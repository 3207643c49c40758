import { BadRequestError, CancelledError, OutputChunk, ProviderError, type WorkerSink } from '@cy/core'
import { feedsFor, inputsByPosition, loadOnnxSession } from '@cy/onnx'
import { ctcGreedy, decodeSenseVoice, type SenseVoiceDecoding } from '../decode/index.ts'
import { senseVoiceFeatures } from '../frontend/index.ts'
import { readSenseVoiceModel } from '../model-files/read-sensevoice-model.ts'
import type { SenseVoiceLanguage, SenseVoiceMetadata } from '../model-files/sensevoice-metadata.ts'
import { splitAtSilences } from '../segment/index.ts'
import { segmentText } from './segment-text.ts'
import type { EngineInfo, EngineOptions, TranscribeArgs } from './transcribe-args.ts'

const SAMPLE_RATE = 16_000
type Session = Awaited<ReturnType<typeof loadOnnxSession>>['session']
type Symbols = Array<string | undefined>

/** SenseVoice on one onnxruntime session: features, the graph, CTC greedy search and the rich tags, segment by segment. */
export class SenseVoiceEngine {
  private constructor(
    readonly options: EngineOptions,
    readonly session: Session,
    readonly provider: string,
    readonly metadata: SenseVoiceMetadata,
    readonly symbols: Symbols,
    readonly inputs: [string, string, string, string],
  ) {}

  static async load(options: EngineOptions, log: (line: string) => void = () => {}): Promise<SenseVoiceEngine> {
    const { metadata, symbols } = await readSenseVoiceModel(options)
    const { session, provider } = await loadOnnxSession(options.model, {
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.providers ? { providers: options.providers } : {}),
      log,
    })
    // sherpa-onnx binds SenseVoice's four inputs by position (features, lengths, language, text_norm): their names differ between exports.
    let inputs: string[]
    try {
      inputs = inputsByPosition(session, 4)
    } catch (error) {
      await session.release()
      throw new ProviderError(`${options.model} is not a SenseVoice graph: ${(error as Error).message}`)
    }
    return new SenseVoiceEngine(options, session, provider, metadata, symbols, inputs as [string, string, string, string])
  }

  get info(): EngineInfo {
    return { provider: this.provider, vocabSize: this.metadata.vocabSize, inputs: this.inputs }
  }

  /** Decodes segment by segment, sending each as it is done; a cancel is honoured between segments. */
  async transcribe(args: TranscribeArgs, out: WorkerSink): Promise<void> {
    const samples = args.samples
    const spans = samples.length / SAMPLE_RATE > this.options.maxSegmentSeconds ? splitAtSilences(samples, SAMPLE_RATE, { maxSegmentSeconds: this.options.maxSegmentSeconds }) : [{ start: 0, end: samples.length }]
    const languages: string[] = []
    const emotions: string[] = []
    const events: string[] = []
    const raw: string[] = []
    let id = 0
    let previous = ''
    for (const span of spans) {
      if (out.aborted) throw new CancelledError('The transcription was cancelled')
      const decoded = await this.decode(samples.subarray(span.start, span.end), args.language, args.itn)
      if (!decoded) continue
      const offset = span.start / SAMPLE_RATE
      const end = span.end / SAMPLE_RATE
      if (decoded.language) languages.push(decoded.language)
      if (decoded.emotion) emotions.push(decoded.emotion)
      if (decoded.event && !events.includes(decoded.event)) events.push(decoded.event)
      if (args.rawText) raw.push(decoded.rawText)
      if (!decoded.text) continue
      const text = segmentText(previous, decoded.text)
      previous = decoded.text
      out.push(
        OutputChunk.transcriptSegment({
          id: id++,
          start: offset,
          end,
          text,
          tokens: decoded.ids,
          ...(decoded.emotion ? { emotion: decoded.emotion } : {}),
          ...(decoded.event ? { event: decoded.event } : {}),
        }),
      )
      if (args.wordTimestamps) for (const word of decoded.words) out.push(OutputChunk.transcriptWord(word.word, offset + word.start, Math.min(end, offset + word.end)))
      // Lets the Worker's event loop run between segments (a cancel's message, the reader's credit).
      await out.ready()
    }
    if (out.aborted) throw new CancelledError('The transcription was cancelled')
    out.push(
      OutputChunk.transcriptInfo({
        // A segment of silence says `nospeech`: the language is what the segments with speech said.
        language: mostCommon(languages.filter((language) => language !== 'nospeech')) ?? mostCommon(languages) ?? (args.language === 'auto' ? 'unknown' : args.language),
        duration: samples.length / SAMPLE_RATE,
        ...(emotions.length ? { emotion: mostCommon(emotions)! } : {}),
        events,
        ...(args.rawText ? { rawText: raw.join(' ') } : {}),
      }),
    )
  }

  /**
   * One segment of 16 kHz mono samples: features, the graph, CTC greedy search, the tags and the text (times
   * from the segment's start). Undefined when it is under one 25 ms frame: nothing to decode, no engine call.
   */
  async decode(samples: Float32Array, language: SenseVoiceLanguage | 'auto', itn: boolean): Promise<(SenseVoiceDecoding & { ids: number[] }) | undefined> {
    const prompt = this.metadata.languages[language]
    if (prompt === undefined) throw new BadRequestError(`Unknown language '${language}'`, { param: 'language' })
    const features = senseVoiceFeatures(samples, this.metadata)
    if (features.frames === 0) return undefined
    return this.decodeFeatures(features, prompt, itn, samples.length / SAMPLE_RATE)
  }

  /** The graph, CTC greedy search and the tags on features the frontend made ([frames × 560]); `duration` in seconds. */
  async decodeFeatures(features: { data: Float32Array; frames: number }, prompt: number, itn: boolean, duration: number): Promise<SenseVoiceDecoding & { ids: number[] }> {
    const session = this.session
    const [x, length, lang, norm] = this.inputs
    const feeds = feedsFor(session, {
      [x]: { data: features.data, dims: [1, features.frames, features.data.length / features.frames] },
      [length]: { data: [features.frames], dims: [1] },
      [lang]: { data: [prompt], dims: [1] },
      [norm]: { data: [itn ? this.metadata.withItn : this.metadata.withoutItn], dims: [1] },
    })
    const results = await session.run(feeds)
    const logits = results[session.outputNames[0]!]!
    const [, frames, vocab] = logits.dims as [number, number, number]
    const hits = ctcGreedy(logits.data as Float32Array, frames, vocab, this.metadata.blankId)
    for (const tensor of Object.values(results)) tensor.dispose()
    const decoded = decodeSenseVoice(hits, this.symbols, { frameShift: this.metadata.lfrWindowShift / 100, end: duration })
    return { ...decoded, ids: hits.map((hit) => hit.id) }
  }

  async dispose(): Promise<void> {
    await this.session.release()
  }
}

/** The value heard most often (the first on a tie). */
function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  let best: string | undefined
  for (const [value, count] of counts) if (best === undefined || count > counts.get(best)!) best = value
  return best
}
