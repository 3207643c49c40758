/**
 * JSON for values that hold bytes: Uint8Array and Float32Array travel as tagged base64 (audio, images,
 * uploaded files, embeddings), everything else as plain JSON. Used for requests and chunks alike.
 *
 * The tags are keys (`$bytes`, `$f32`); a value of the caller's own that has one of them (a `metadata`
 * object, a tool's JSON Schema) travels escaped as `{ "$esc": [[key, value], ...] }`, so it arrives as
 * it was sent.
 */
const TAGS = ['$bytes', '$f32', '$esc'] as const

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)

const hasTagKey = (value: Record<string, unknown>) => TAGS.some((tag) => Object.hasOwn(value, tag))

/** Could this JSON text hold a tag (as a key)? A text without any needs no reviver and no escaping. */
const mayHoldTags = (text: string) => text.includes('"$bytes"') || text.includes('"$f32"') || text.includes('"$esc"')

export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, item) => {
    if (item instanceof Float32Array) return { $f32: Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('base64') }
    if (item instanceof Uint8Array) return { $bytes: Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('base64') }
    if (isPlainObject(item) && hasTagKey(item)) return { $esc: Object.entries(item) }
    return item
  })
}

/** Chunk types that may hold bytes; a batch without any is plain JSON, skipping the (slow) replacer. */
const BINARY_CHUNKS = new Set(['audio', 'image', 'image-partial', 'embedding'])

export function encodeChunks<T extends { type: string }>(message: { chunks: T[] }): string {
  if (message.chunks.some((chunk) => BINARY_CHUNKS.has(chunk.type))) return encodeWire(message)
  const text = JSON.stringify(message)
  return mayHoldTags(text) ? encodeWire(message) : text
}

export function decodeWire<T = unknown>(text: string): T {
  // Most lines carry text only: no reviver, which costs a call per value.
  if (!mayHoldTags(text)) return JSON.parse(text) as T
  return JSON.parse(text, (_key, item) => {
    if (!isPlainObject(item)) return item
    if (typeof item.$bytes === 'string') return new Uint8Array(Buffer.from(item.$bytes, 'base64'))
    if (typeof item.$f32 === 'string') {
      const bytes = Buffer.from(item.$f32, 'base64')
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
    }
    if (Array.isArray(item.$esc)) return Object.fromEntries(item.$esc as Array<[string, unknown]>)
    return item
  }) as T
}
