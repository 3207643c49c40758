/** The hub answered 404: no such repository, revision or file. */
export class HubNotFoundError extends Error {
  override readonly name = 'HubNotFoundError'
}
