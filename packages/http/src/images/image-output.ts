import type { ImageChunk, ImageRequest, PartialImageChunk, UsageChunk } from '@cy/core'
import { transcodeImage, type ImageFormat } from '@cy/image'

/** OpenAI's sizes: the only ones its response and event schemas name. */
const NAMED_SIZES = new Set(['1024x1024', '1024x1536', '1536x1024'])
/** dall-e-3's quality names in the GPT image models' terms. */
const QUALITY_NAMES: Record<string, 'low' | 'medium' | 'high' | 'auto'> = { low: 'low', medium: 'medium', high: 'high', standard: 'medium', hd: 'high', auto: 'auto' }

/** The facts about a request's images that OpenAI's responses and events carry. */
export interface ImageFacts {
  outputFormat: ImageFormat
  compression: number
  /** `auto` unless the request named one of OpenAI's sizes. */
  size: string
  quality: 'low' | 'medium' | 'high' | 'auto'
  /** These models draw no alpha: always opaque. */
  background: 'opaque'
}

export function imageFacts(request: ImageRequest): ImageFacts {
  return {
    outputFormat: request.output_format ?? 'png',
    compression: request.output_compression ?? 100,
    size: request.size && NAMED_SIZES.has(request.size) ? request.size : 'auto',
    quality: QUALITY_NAMES[request.quality ?? 'auto'] ?? 'auto',
    background: 'opaque',
  }
}

/** An image (or preview) in the format the request asked for: re-encoded, off the event loop, when its handler made another. */
export async function inRequestedFormat<T extends ImageChunk | PartialImageChunk>(chunk: T, facts: ImageFacts): Promise<T> {
  const encoded = await transcodeImage(chunk.data, facts.outputFormat, facts.compression)
  return encoded.data === chunk.data ? chunk : { ...chunk, data: encoded.data, mimeType: encoded.mimeType }
}

/** OpenAI's image usage from the handler's counts (zeros when it gave none: the events require the field). */
export function imageUsage(usage: UsageChunk | undefined) {
  const input = usage?.promptTokens ?? 0
  const images = usage?.imageTokens ?? 0
  const output = usage?.completionTokens ?? 0
  return { input_tokens: input, input_tokens_details: { text_tokens: input - images, image_tokens: images }, output_tokens: output, total_tokens: input + output }
}
