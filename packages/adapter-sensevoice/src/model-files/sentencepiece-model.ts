import { fieldText, messageFields, WIRE_LEN } from '@cy/onnx'
import { SenseVoiceModelError } from './sensevoice-model-error.ts'

/**
 * The pieces of a sentencepiece model (a protobuf ModelProto: `repeated SentencePiece pieces = 1`, each with
 * `string piece = 1`), indexed by id: the vocabulary FunASR's SenseVoice release ships instead of tokens.txt.
 */
export function readSentencePieces(bytes: Uint8Array, file: string): string[] {
  const pieces: string[] = []
  try {
    for (const field of messageFields(bytes)) {
      if (field.field !== 1 || field.wireType !== WIRE_LEN) continue
      const message = bytes.subarray(field.start, field.end)
      let piece = ''
      for (const inner of messageFields(message)) if (inner.field === 1) piece = fieldText(message, inner)
      pieces.push(piece)
    }
  } catch (error) {
    throw new SenseVoiceModelError(`${file} is not a sentencepiece model: ${(error as Error).message}`)
  }
  if (pieces.length === 0) throw new SenseVoiceModelError(`${file} is not a sentencepiece model: it has no pieces`)
  return pieces
}
