/** A library's smoke test failed: its message holds the child's exit code and whole stderr, for the operator to read. */
export class SmokeTestError extends Error {
  override readonly name = 'SmokeTestError'
}
