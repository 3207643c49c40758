/** A training call given what it cannot use: a window of the wrong length, an empty dataset, a bad learning rate or split. */
export class TrainingInputError extends Error {
  override readonly name = 'TrainingInputError'
}
