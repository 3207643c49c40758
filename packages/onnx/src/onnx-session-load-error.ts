/** No provider asked for could create the session; `attempts` says why each one did not. */
export class OnnxSessionLoadError extends Error {
  override readonly name = 'OnnxSessionLoadError'

  constructor(
    readonly path: string,
    readonly attempts: ReadonlyArray<{ provider: string; reason: string }>,
  ) {
    super(
      `could not create an ONNX session for ${path}: ` +
        (attempts.length === 0 ? 'no execution provider was asked for' : attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ')),
    )
  }
}
