/** Thrown when no candidate engine library works; the message says what was tried and why each failed. */
export class NoLibraryFoundError extends Error {
  override readonly name = 'NoLibraryFoundError'
}
