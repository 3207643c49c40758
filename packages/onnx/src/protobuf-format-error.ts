/** Bytes that are not a well-formed protobuf message (or end before the message does). */
export class ProtobufFormatError extends Error {
  override readonly name = 'ProtobufFormatError'
}
