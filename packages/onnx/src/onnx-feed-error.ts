/** Inputs that do not fit the session's graph: an unknown or missing name, a wrong size, an unsupported dtype. */
export class OnnxFeedError extends Error {
  override readonly name = 'OnnxFeedError'
}
