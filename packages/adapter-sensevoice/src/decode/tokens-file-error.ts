/** A tokens.txt line that is not `piece id` (or a lone id, sherpa-onnx's spelling of the piece " "). */
export class TokensFileError extends Error {
  override readonly name = 'TokensFileError'
  readonly line: number

  constructor(message: string, line: number) {
    super(`tokens.txt line ${line}: ${message}`)
    this.line = line
  }

  static isInstance(value: unknown): value is TokensFileError {
    return value instanceof Error && value.name === 'TokensFileError' && typeof (value as TokensFileError).line === 'number'
  }
}
