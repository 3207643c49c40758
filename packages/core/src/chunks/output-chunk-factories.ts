import type { FinishReason } from './finish-reason.ts'
import type {
  AnyOutputChunk,
  AudioChunk,
  EmbeddingChunk,
  ErrorChunk,
  FinalTextChunk,
  FinishChunk,
  ImageChunk,
  LogprobsChunk,
  PartialImageChunk,
  ProgressChunk,
  ReasoningDeltaChunk,
  TextDeltaChunk,
  ToolCallChunk,
  ToolCallDeltaChunk,
  TranscriptInfoChunk,
  TranscriptSegmentChunk,
  TranscriptWordChunk,
  UsageChunk,
} from './output-chunk.ts'

/** Everything a provider can emit, one union discriminated on `type`. */
export type OutputChunk = AnyOutputChunk

type Without<T, K extends keyof T> = Omit<T, K | 'type'>

/** Factories named as in the seed (`OutputChunk::TextDelta` becomes `OutputChunk.textDelta`). */
export const OutputChunk = {
  textDelta: (text: string, index?: number): TextDeltaChunk => (index ? { type: 'text-delta', text, index } : { type: 'text-delta', text }),
  finalText: (text: string, index?: number): FinalTextChunk => (index ? { type: 'final-text', text, index } : { type: 'final-text', text }),
  reasoningDelta: (text: string, index?: number): ReasoningDeltaChunk =>
    index ? { type: 'reasoning-delta', text, index } : { type: 'reasoning-delta', text },
  toolCallDelta: (fields: Without<ToolCallDeltaChunk, never>): ToolCallDeltaChunk => ({ type: 'tool-call-delta', ...fields }),
  toolCall: (fields: Without<ToolCallChunk, never>): ToolCallChunk => ({ type: 'tool-call', ...fields }),
  usage: (promptTokens: number, completionTokens: number, cachedTokens?: number): UsageChunk => ({
    type: 'usage',
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    ...(cachedTokens === undefined ? {} : { cachedTokens }),
  }),
  embedding: (index: number, embedding: Float32Array | number[]): EmbeddingChunk => ({ type: 'embedding', index, embedding }),
  transcriptInfo: (fields: Without<TranscriptInfoChunk, never>): TranscriptInfoChunk => ({ type: 'transcript-info', ...fields }),
  transcriptSegment: (fields: Without<TranscriptSegmentChunk, never>): TranscriptSegmentChunk => ({ type: 'transcript-segment', ...fields }),
  transcriptWord: (word: string, start: number, end: number): TranscriptWordChunk => ({ type: 'transcript-word', word, start, end }),
  audio: (data: Uint8Array, format: AudioChunk['format'], sampleRate?: number, channels?: number): AudioChunk => ({
    type: 'audio',
    data,
    format,
    ...(sampleRate === undefined ? {} : { sampleRate }),
    ...(channels === undefined ? {} : { channels }),
  }),
  image: (data: Uint8Array, fields: Without<ImageChunk, 'data'> = {}): ImageChunk => ({ type: 'image', data, ...fields }),
  imagePartial: (data: Uint8Array, partialIndex: number, fields: Without<PartialImageChunk, 'data' | 'partialIndex'> = {}): PartialImageChunk => ({ type: 'image-partial', data, partialIndex, ...fields }),
  progress: (progress: number, stage?: string, steps?: { step: number; steps: number }): ProgressChunk => ({ type: 'progress', progress, ...(stage ? { stage } : {}), ...steps }),
  logprobs: (content: LogprobsChunk['content'], index?: number): LogprobsChunk => (index ? { type: 'logprobs', content, index } : { type: 'logprobs', content }),
  finish: (reason: FinishReason = 'stop', index?: number): FinishChunk => (index ? { type: 'finish', reason, index } : { type: 'finish', reason }),
  error: (message: string, code?: string): ErrorChunk => (code ? { type: 'error', message, code } : { type: 'error', message }),
} as const
