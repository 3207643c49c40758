/** The hub answered 401/403: the repository is gated or private and needs HF_TOKEN. */
export class HubAuthError extends Error {
  override readonly name = 'HubAuthError'
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}
