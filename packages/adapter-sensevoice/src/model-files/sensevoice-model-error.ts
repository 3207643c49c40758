/** A file that is not a SenseVoice model this adapter can load, with what is missing or wrong. */
export class SenseVoiceModelError extends Error {
  override name = 'SenseVoiceModelError'
}
