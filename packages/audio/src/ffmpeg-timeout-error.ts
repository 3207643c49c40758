/** ffmpeg ran past its time limit and was killed. */
export class FfmpegTimeoutError extends Error {
  override readonly name = 'FfmpegTimeoutError'
}
