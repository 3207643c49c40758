import type { OutputSink } from '../channel/output-channel.ts'
import type { Capability } from '../capability.ts'
import type { AsrRequest } from '../requests/transcription-request.ts'
import type { ChatRequest } from '../requests/chat-request.ts'
import type { CompletionRequest } from '../requests/completion-request.ts'
import type { EmbeddingRequest } from '../requests/embedding-request.ts'
import type { ImageRequest } from '../requests/image-request.ts'
import type { SpeechRequest } from '../requests/speech-request.ts'

/**
 * A handler answers one request by writing chunks to `out` and then calling `out.end()`
 * (or `out.fail(error)`). It may return a promise; a rejection fails the request.
 */
export type Handler<Request> = (request: Request, out: OutputSink) => void | Promise<void>

export type ChatHandler = Handler<ChatRequest>
export type CompletionHandler = Handler<CompletionRequest>
export type EmbeddingHandler = Handler<EmbeddingRequest>
export type AsrHandler = Handler<AsrRequest>
export type TtsHandler = Handler<SpeechRequest>
export type ImageHandler = Handler<ImageRequest>

/** The request type each capability's handler receives. */
export interface CapabilityRequests {
  chat: ChatRequest
  completion: CompletionRequest
  embedding: EmbeddingRequest
  asr: AsrRequest
  tts: SpeechRequest
  image: ImageRequest
}

/** One handler per capability a model has. */
export type Providers = { [K in Capability]?: Handler<CapabilityRequests[K]> }
