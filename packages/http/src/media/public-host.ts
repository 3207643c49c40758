import { isIP } from 'node:net'
import { InvalidImageUrlError } from './invalid-image-url-error.ts'
import { isPrivateAddress } from './private-address.ts'

/**
 * Refuses a URL whose host is, or resolves to, a private address (any of its addresses: a name with one
 * public and one private answer is refused). The fetch resolves the name again; a DNS answer that changes
 * in between is the gap left, as in every resolver-level check without a pinned connection.
 */
export async function checkPublicHost(url: URL, param: string, lookup: (host: string) => Promise<string[]>, signal: AbortSignal): Promise<void> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  let addresses: string[]
  if (isIP(host)) addresses = [host]
  else {
    try {
      addresses = await abortable(lookup(host), signal)
    } catch (error) {
      if (signal.aborted) throw error
      throw new InvalidImageUrlError(param, `the host '${host}' of the image URL could not be resolved`)
    }
  }
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw new InvalidImageUrlError(
      param,
      `the image URL's host '${host}' is a loopback, private or link-local address, which this server does not fetch (start it with --allow-private-media-urls to allow them)`,
      'image_url_not_allowed',
    )
  }
}

/** A promise that rejects with the signal's reason when it fires first (a DNS lookup takes no signal). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
