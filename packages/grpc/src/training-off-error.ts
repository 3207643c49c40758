/** The server has no trainer (no adapter that trains is installed, or training is off): TrainingService answers UNIMPLEMENTED. */
export class TrainingOffError extends Error {
  override readonly name = 'TrainingOffError'

  constructor() {
    super('Training is not available on this server: it runs no trainer, so TrainingService is off (as /api/v1/training is)')
  }
}
