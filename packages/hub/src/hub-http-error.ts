/** Any other failure talking to the hub: an unexpected status, a missing header, an unsafe redirect. */
export class HubHttpError extends Error {
  override readonly name = 'HubHttpError'
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message)
  }
}
