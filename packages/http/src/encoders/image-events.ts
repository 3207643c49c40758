import { ProviderError, toApiError, type ImageChunk, type OutputChunk, type ProgressChunk, type UsageChunk } from '@cy/core'
import { unixSeconds } from '../ids.ts'
import { imageUsage, inRequestedFormat, type ImageFacts } from '../images/image-output.ts'
import { sseEvent } from '../sse/sse-frame.ts'
import type { StreamEncoder } from '../sse/stream-response.ts'

/**
 * OpenAI's image stream: `<kind>.partial_image` events as previews come, then one `<kind>.completed`
 * per image. The completed events wait for the end: each carries the request's usage, which comes last.
 */
export class ImageStreamEncoder implements StreamEncoder {
  readonly #images: ImageChunk[] = []
  #usage: UsageChunk | undefined
  readonly #createdAt = unixSeconds()

  constructor(
    readonly kind: 'image_generation' | 'image_edit',
    readonly facts: ImageFacts,
    readonly onProgress: (chunk: ProgressChunk) => void = () => {},
  ) {}

  async encode(chunks: OutputChunk[]): Promise<string> {
    let out = ''
    for (const chunk of chunks) {
      if (chunk.type === 'image') this.#images.push(chunk)
      else if (chunk.type === 'usage') this.#usage = chunk
      else if (chunk.type === 'progress') this.onProgress(chunk)
      else if (chunk.type === 'image-partial') {
        const partial = await inRequestedFormat(chunk, this.facts)
        out += this.#event('partial_image', partial.data, { partial_image_index: partial.partialIndex })
      }
    }
    return out
  }

  async finish(): Promise<string> {
    if (this.#images.length === 0) throw new ProviderError('The model produced no image')
    let out = ''
    for (const image of this.#images.sort((a, b) => (a.index ?? 0) - (b.index ?? 0))) {
      const encoded = await inRequestedFormat(image, this.facts)
      out += this.#event('completed', encoded.data, { usage: imageUsage(this.#usage) })
    }
    return out
  }

  failure(error: unknown): string {
    return sseEvent('error', JSON.stringify(toApiError(error).toJSON()))
  }

  #event(name: 'partial_image' | 'completed', data: Uint8Array, extra: Record<string, unknown>): string {
    const type = `${this.kind}.${name}`
    const { size, quality, background, outputFormat } = this.facts
    const event = { type, b64_json: Buffer.from(data).toString('base64'), created_at: this.#createdAt, size, quality, background, output_format: outputFormat, ...extra }
    return sseEvent(type, JSON.stringify(event))
  }
}
