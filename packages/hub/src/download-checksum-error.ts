/** The downloaded bytes do not hash to the sha256 the hub announced; the partial file was deleted. */
export class DownloadChecksumError extends Error {
  override readonly name = 'DownloadChecksumError'
}
