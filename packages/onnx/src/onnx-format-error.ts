/** A file that is not a readable ONNX model (garbage, truncated, or past the reader's caps). */
export class OnnxFormatError extends Error {
  override readonly name = 'OnnxFormatError'

  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${path} is not a readable ONNX model: ${reason}`, options)
  }
}
