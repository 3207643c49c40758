/** The cache volume has less free space than the file still to download. */
export class DiskSpaceError extends Error {
  override readonly name = 'DiskSpaceError'
}
