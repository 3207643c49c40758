/** A library's smoke test failed: the child's exit code and its whole stderr, for the operator to read. */
export class SmokeTestError extends Error {
  override readonly name = 'SmokeTestError'

  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message)
  }
}
