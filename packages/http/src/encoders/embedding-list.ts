import { BadRequestError, ProviderError, type OutputChannel, type UsageChunk } from '@cy/core'

/** Base64 of the little-endian float32 bytes, as OpenAI sends with `encoding_format: "base64"`. */
export function float32ToBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
}

/** Cuts a vector to `dimensions` and scales it back to unit length, as OpenAI's shortened embeddings are. */
export function shorten(vector: Float32Array, dimensions: number): Float32Array {
  const cut = vector.slice(0, dimensions)
  let norm = 0
  for (const value of cut) norm += value * value
  norm = Math.sqrt(norm)
  if (norm > 0) for (let i = 0; i < cut.length; i++) cut[i]! /= norm
  return cut
}

export interface EmbeddingListOptions {
  model: string
  inputCount: number
  encoding: 'float' | 'base64'
  dimensions: number | undefined
}

/** Gathers a handler's embedding chunks into OpenAI's `list` of `embedding` objects. */
export async function embeddingListBody(channel: OutputChannel, options: EmbeddingListOptions) {
  const vectors: Float32Array[] = []
  let usage: UsageChunk | undefined
  for await (const chunk of channel) {
    if (chunk.type === 'embedding') vectors[chunk.index] = Float32Array.from(chunk.embedding)
    else if (chunk.type === 'usage') usage = chunk
  }
  const data = []
  for (let index = 0; index < options.inputCount; index++) {
    let vector = vectors[index]
    if (!vector) throw new ProviderError(`The model returned no embedding for input ${index}`)
    if (options.dimensions !== undefined && options.dimensions !== vector.length) {
      if (options.dimensions > vector.length) {
        throw new BadRequestError(`This model's embeddings have ${vector.length} dimensions; 'dimensions' cannot exceed that`, {
          param: 'dimensions',
        })
      }
      vector = shorten(vector, options.dimensions)
    }
    data.push({ object: 'embedding', index, embedding: options.encoding === 'base64' ? float32ToBase64(vector) : Array.from(vector) })
  }
  const promptTokens = usage?.promptTokens ?? 0
  return { object: 'list', data, model: options.model, usage: { prompt_tokens: promptTokens, total_tokens: usage?.totalTokens ?? promptTokens } }
}
