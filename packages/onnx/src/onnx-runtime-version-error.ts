/** The installed onnxruntime-node is not the release @cy/onnx pins. */
export class OnnxRuntimeVersionError extends Error {
  override readonly name = 'OnnxRuntimeVersionError'

  constructor(
    readonly installed: string,
    readonly expected: string,
  ) {
    super(
      `onnxruntime-node ${installed} is installed, but @cy/onnx is built for ${expected} exactly: ` +
        `install onnxruntime-node@${expected} (remove any override or resolution that changes it)`,
    )
  }
}
