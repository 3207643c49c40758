import { ApiError, CancelledError } from '@cy/core'
import { ImageTooLargeError } from './image-too-large-error.ts'
import { InvalidImageUrlError } from './invalid-image-url-error.ts'
import type { ResolvedMediaOptions } from './media-options.ts'
import { checkPublicHost } from './public-host.ts'
import { readLimited } from './read-limited.ts'

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/**
 * An `http(s)` image's bytes: redirects followed by hand (each hop's host checked like the first), the body
 * counted against the limit as it streams, the whole within the timeout, and cancelled when the client
 * leaves. Every failure is the client's 400 naming the part, except the client's own departure.
 */
export async function fetchImage(url: URL, param: string, options: ResolvedMediaOptions, client: AbortSignal): Promise<Uint8Array> {
  const timeout = options.timeoutMs > 0 ? AbortSignal.timeout(options.timeoutMs) : undefined
  const signal = timeout ? AbortSignal.any([client, timeout]) : client
  try {
    let current = url
    for (let hop = 0; ; hop++) {
      if (current.protocol !== 'http:' && current.protocol !== 'https:') throw new InvalidImageUrlError(param, `the image URL redirected to a ${current.protocol} URL, which is not fetched`)
      if (!options.allowPrivateUrls) await checkPublicHost(current, param, options.lookup, signal)
      const response = await fetch(current, { redirect: 'manual', signal, headers: { accept: 'image/*' } })
      if (REDIRECTS.has(response.status)) {
        await response.body?.cancel().catch(() => {})
        const location = response.headers.get('location')
        if (!location) throw new InvalidImageUrlError(param, `the image URL answered ${response.status} without a Location`)
        if (hop >= options.maxRedirects) throw new InvalidImageUrlError(param, `the image URL redirected more than ${options.maxRedirects} times`)
        current = new URL(location, current)
        continue
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => {})
        throw new InvalidImageUrlError(param, `fetching the image URL answered ${response.status}`)
      }
      const tooLarge = () => new ImageTooLargeError(param, options.maxBytes)
      if (Number(response.headers.get('content-length')) > options.maxBytes) {
        await response.body?.cancel().catch(() => {})
        throw tooLarge()
      }
      if (!response.body) return new Uint8Array()
      return await readLimited(response.body, options.maxBytes, tooLarge)
    }
  } catch (error) {
    if (client.aborted) throw ApiError.isInstance(client.reason) ? client.reason : new CancelledError('The client closed the request')
    if (ApiError.isInstance(error)) throw error
    if (timeout?.aborted) throw new InvalidImageUrlError(param, `fetching the image URL took longer than ${options.timeoutMs} ms`)
    throw new InvalidImageUrlError(param, `the image URL could not be fetched (${(error as Error).message})`)
  }
}
