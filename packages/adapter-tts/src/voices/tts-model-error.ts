/** A file that is not a Piper voice or Kokoro model this adapter can load, with what is missing or wrong. */
export class TtsModelError extends Error {
  override name = 'TtsModelError'
}
