/** espeak-ng could not be used: its data folder is missing, a voice is unknown, or it failed to start. */
export class EspeakError extends Error {
  override name = 'EspeakError'
}
