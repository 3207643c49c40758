import { ProtobufFormatError } from './protobuf-format-error.ts'

// The protobuf wire format, read-only and just enough for ONNX's ModelProto header:
// https://protobuf.dev/programming-guides/encoding/
export const WIRE_VARINT = 0
export const WIRE_FIXED64 = 1
export const WIRE_LEN = 2
export const WIRE_FIXED32 = 5

/** One field: its number, wire type, a varint's value, and where its payload lies (absolute offsets). */
export interface ProtoField {
  field: number
  wireType: number
  /** The value of a varint field (exact below 2^53, which every length and count we read is). */
  value: number
  /** Payload start and end; for a varint, the varint's own bytes. */
  start: number
  end: number
}

/** The longest a tag (5 bytes) plus a length varint (10 bytes) can be. */
export const MAX_FIELD_HEADER_BYTES = 15

/** A varint at `pos` of `bytes`, or undefined when the bytes end inside it. */
export function readVarint(bytes: Uint8Array, pos: number): { value: number; next: number } | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < 10; i++) {
    const byte = bytes[pos + i]
    if (byte === undefined) return undefined
    // Multiplication, not shifts: JavaScript's bit operators are 32-bit.
    value += (byte & 0x7f) * scale
    if (byte < 0x80) return { value, next: pos + i + 1 }
    scale *= 128
  }
  throw new ProtobufFormatError('a varint runs past 10 bytes')
}

/**
 * The field whose tag starts at `bytes[pos]`, where `bytes[0]` lies at absolute offset `base` and the
 * enclosing message ends at absolute offset `limit`. Throws for a malformed tag or a payload that runs past
 * `limit`; returns undefined when `bytes` ends before the header does (the caller reads more).
 */
export function readFieldHeader(bytes: Uint8Array, pos: number, base: number, limit: number): ProtoField | undefined {
  const tag = readVarint(bytes, pos)
  if (tag === undefined) return undefined
  const field = Math.floor(tag.value / 8)
  const wireType = tag.value % 8
  const at = base + pos
  if (field === 0 || field > 0x1fffffff) throw new ProtobufFormatError(`invalid field number ${field} at offset ${at}`)
  let start = base + tag.next
  let end: number
  let value = 0
  switch (wireType) {
    case WIRE_VARINT: {
      const varint = readVarint(bytes, tag.next)
      if (varint === undefined) return undefined
      value = varint.value
      end = base + varint.next
      break
    }
    case WIRE_FIXED64:
      end = start + 8
      break
    case WIRE_FIXED32:
      end = start + 4
      break
    case WIRE_LEN: {
      const length = readVarint(bytes, tag.next)
      if (length === undefined) return undefined
      start = base + length.next
      end = start + length.value
      break
    }
    default:
      throw new ProtobufFormatError(`unsupported wire type ${wireType} (field ${field}) at offset ${at}`)
  }
  if (end > limit) {
    throw new ProtobufFormatError(
      `field ${field} at offset ${at} needs ${end - start} bytes but its message ends ${Math.max(0, limit - start)} bytes later (truncated?)`,
    )
  }
  return { field, wireType, value, start, end }
}

/** Every field of a message held in memory, in order; offsets are relative to `bytes`. */
export function* messageFields(bytes: Uint8Array): Generator<ProtoField> {
  let pos = 0
  while (pos < bytes.length) {
    const header = readFieldHeader(bytes, pos, 0, bytes.length)
    if (header === undefined) throw new ProtobufFormatError(`a field header at offset ${pos} is cut off`)
    yield header
    pos = header.end
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** A LEN field's payload as UTF-8 text (protobuf strings must be valid UTF-8). */
export function fieldText(bytes: Uint8Array, field: ProtoField): string {
  if (field.wireType !== WIRE_LEN) throw new ProtobufFormatError(`field ${field.field} should be a string, has wire type ${field.wireType}`)
  try {
    return utf8.decode(bytes.subarray(field.start, field.end))
  } catch {
    throw new ProtobufFormatError(`field ${field.field} is not valid UTF-8`)
  }
}
