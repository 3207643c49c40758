import { HubAuthError } from './hub-auth-error.ts'
import { HubHttpError } from './hub-http-error.ts'
import { HubNotFoundError } from './hub-not-found-error.ts'

/** The hub's base URL: the caller's, else HF_ENDPOINT, else the Hugging Face hub. */
export const hubEndpoint = (endpoint?: string): string =>
  (endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '')

export const auth = (token: string | undefined): Record<string, string> =>
  token ? { Authorization: `Bearer ${token}` } : {}

/** Turns the hub's refusals into typed errors: 401/403 gated, 404 missing, any other 4xx/5xx. */
export function checkStatus(res: Response, what: string): void {
  if (res.status === 401 || res.status === 403)
    throw new HubAuthError(
      `${what}: the hub answered ${res.status}; the repository is gated or private: set HF_TOKEN to a token with access`,
      res.status,
    )
  if (res.status === 404) throw new HubNotFoundError(`${what}: not found on the hub (check the repository, revision and file)`)
  if (res.status >= 400) throw new HubHttpError(`${what}: the hub answered ${res.status}`, res.status)
}
