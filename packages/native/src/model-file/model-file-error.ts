/** A model file whose header cannot be read: truncated, garbage, or past a size cap. */
export class ModelFileError extends Error {
  override readonly name = 'ModelFileError'
}
