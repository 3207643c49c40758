import type { FinishReason } from './finish-reason.ts'

/** A piece of generated text; `index` is the choice it belongs to (0 unless n > 1). */
export interface TextDeltaChunk { type: 'text-delta'; text: string; index?: number }
/** The whole text at once, for handlers that do not stream; it replaces what the deltas said. */
export interface FinalTextChunk { type: 'final-text'; text: string; index?: number }
/** A piece of the model's reasoning, kept apart from the answer. */
export interface ReasoningDeltaChunk { type: 'reasoning-delta'; text: string; index?: number }
/** Part of a tool call as it is generated; `id` and `name` come with its first delta. */
export interface ToolCallDeltaChunk {
  type: 'tool-call-delta'
  callIndex: number
  id?: string
  name?: string
  argumentsDelta: string
}
/** A complete tool call; its arguments are a JSON text. */
export interface ToolCallChunk { type: 'tool-call'; callIndex: number; id: string; name: string; arguments: string }
/** Token counts, in real tokens of the model. */
export interface UsageChunk {
  type: 'usage'
  promptTokens: number
  completionTokens: number
  totalTokens?: number
  /** Prompt tokens served from a cache instead of being evaluated again. */
  cachedTokens?: number
  /** Of the prompt tokens, those that came from input images (image edits). */
  imageTokens?: number
}
/** One embedding vector; `index` is the position of its input. */
export interface EmbeddingChunk { type: 'embedding'; index: number; embedding: Float32Array | number[] }
/**
 * Facts about a transcription as a whole. Models that tell more (SenseVoice) add the speaker's emotion,
 * the audio events heard (speech, music, laughter...) and the raw text with the model's own tags.
 */
export interface TranscriptInfoChunk { type: 'transcript-info'; language?: string; duration?: number; emotion?: string; events?: string[]; rawText?: string }
/** A transcript segment with its timestamps in seconds. */
export interface TranscriptSegmentChunk {
  type: 'transcript-segment'
  id?: number
  start: number
  end: number
  text: string
  tokens?: number[]
  avgLogprob?: number
  compressionRatio?: number
  noSpeechProb?: number
  temperature?: number
  /** The speaker's emotion in this segment, and the audio event heard, where the model tells them. */
  emotion?: string
  event?: string
}
/** A transcribed word with its timestamps in seconds. */
export interface TranscriptWordChunk { type: 'transcript-word'; word: string; start: number; end: number }
/**
 * Audio bytes. `format: 'pcm'` means raw signed 16-bit little-endian samples at `sampleRate`;
 * any other format is encoded bytes of that container.
 */
export interface AudioChunk {
  type: 'audio'
  data: Uint8Array
  format: 'pcm' | 'wav' | 'mp3' | 'opus' | 'aac' | 'flac'
  sampleRate?: number
  channels?: number
}
/** A finished image, encoded (PNG unless `mimeType` says otherwise). */
export interface ImageChunk { type: 'image'; index?: number; data: Uint8Array; mimeType?: string; revisedPrompt?: string }
/** A preview of image `index` while it is made (`partialIndex` counts them from 0), encoded as `mimeType`. */
export interface PartialImageChunk { type: 'image-partial'; index?: number; partialIndex: number; data: Uint8Array; mimeType?: string }
/** How far long work has come, from 0 to 1; `step` of `steps` when the work counts steps (image sampling). */
export interface ProgressChunk { type: 'progress'; progress: number; stage?: string; step?: number; steps?: number }
/** One alternative for a generated token: its text (UTF-8, possibly a partial character), bytes and log-probability. */
export interface TokenAlternative { token: string; logprob: number; bytes: number[] }
/** A generated token's log-probability (log-softmax of the raw logits, before sampling) and the most likely alternatives. */
export interface TokenLogprob extends TokenAlternative { top: TokenAlternative[] }
/** Log-probabilities of generated tokens, sent before the text they make; `index` is the choice. */
export interface LogprobsChunk { type: 'logprobs'; content: TokenLogprob[]; index?: number }
/** The end of generation and why. Optional: a channel that ends without one finished with `stop`. */
export interface FinishChunk { type: 'finish'; reason: FinishReason; index?: number }
/** An error reported in-band by the provider; the request fails with it. */
export interface ErrorChunk { type: 'error'; message: string; code?: string }

/** Everything a provider can emit, one union discriminated on `type`. */
export type AnyOutputChunk =
  | TextDeltaChunk
  | FinalTextChunk
  | ReasoningDeltaChunk
  | ToolCallDeltaChunk
  | ToolCallChunk
  | UsageChunk
  | EmbeddingChunk
  | TranscriptInfoChunk
  | TranscriptSegmentChunk
  | TranscriptWordChunk
  | AudioChunk
  | ImageChunk
  | PartialImageChunk
  | ProgressChunk
  | LogprobsChunk
  | FinishChunk
  | ErrorChunk

export type OutputChunkType = AnyOutputChunk['type']
