/**
 * JSON for values that hold bytes: Uint8Array and Float32Array travel as tagged base64 (audio, images,
 * uploaded files, embeddings), everything else as plain JSON. Used for requests and chunks alike.
 */
export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, item) => {
    if (item instanceof Float32Array) return { $f32: Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('base64') }
    if (item instanceof Uint8Array) return { $bytes: Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('base64') }
    return item
  })
}

/** Chunk types that may hold bytes; a batch without any is plain JSON, skipping the (slow) replacer. */
const BINARY_CHUNKS = new Set(['audio', 'image', 'embedding'])

export function encodeChunks<T extends { type: string }>(message: { chunks: T[] }): string {
  return message.chunks.some((chunk) => BINARY_CHUNKS.has(chunk.type)) ? encodeWire(message) : JSON.stringify(message)
}

export function decodeWire<T = unknown>(text: string): T {
  // Most lines carry text only: no reviver, which costs a call per value.
  if (!text.includes('"$bytes"') && !text.includes('"$f32"')) return JSON.parse(text) as T
  return JSON.parse(text, (_key, item) => {
    if (item && typeof item === 'object' && typeof item.$bytes === 'string') return new Uint8Array(Buffer.from(item.$bytes, 'base64'))
    if (item && typeof item === 'object' && typeof item.$f32 === 'string') {
      const bytes = Buffer.from(item.$f32, 'base64')
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
    }
    return item
  }) as T
}
