import { lookup } from 'node:dns/promises'

/** How the server turns a chat's `image_url` parts into bytes for the model (`ServerOptions.media`). */
export interface MediaOptions {
  /**
   * Folders whose files a request may name by path (`/abs/path.png` or `file://`). The real path (symlinks
   * resolved) must lie inside one of them. Default none: every path is refused.
   */
  allowedDirs?: string[]
  /** Largest image in bytes, whatever its source (default 20 MiB). */
  maxBytes?: number
  /** Largest sum of a request's images in bytes, its whole conversation's (default 100 MiB). */
  maxTotalBytes?: number
  /** Milliseconds an `http(s)` image may take, redirects and body included (default 15000; 0 for none). */
  timeoutMs?: number
  /**
   * Fetch URLs whose host resolves to a loopback, private, link-local, unique-local, CGNAT or metadata
   * address (default false: refused, against SSRF).
   */
  allowPrivateUrls?: boolean
  /** Fetch `http(s)` image URLs at all (default true; false refuses them with a 400). */
  remote?: boolean
  /** Redirects followed per image, each checked like the first URL (default 5). */
  maxRedirects?: number
  /** A host name's addresses for the private-address check (default the system resolver, `dns.lookup`). */
  lookup?: (host: string) => Promise<string[]>
}

export const DEFAULT_MEDIA_MAX_BYTES = 20 * 1024 * 1024
export const DEFAULT_MEDIA_MAX_TOTAL_BYTES = 100 * 1024 * 1024
export const DEFAULT_MEDIA_TIMEOUT_MS = 15_000
export const DEFAULT_MEDIA_MAX_REDIRECTS = 5

async function systemLookup(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address)
}

export type ResolvedMediaOptions = Required<MediaOptions>

export function resolveMediaOptions(options: MediaOptions = {}): ResolvedMediaOptions {
  return {
    allowedDirs: options.allowedDirs ?? [],
    maxBytes: options.maxBytes ?? DEFAULT_MEDIA_MAX_BYTES,
    maxTotalBytes: options.maxTotalBytes ?? DEFAULT_MEDIA_MAX_TOTAL_BYTES,
    timeoutMs: options.timeoutMs ?? DEFAULT_MEDIA_TIMEOUT_MS,
    allowPrivateUrls: options.allowPrivateUrls === true,
    remote: options.remote !== false,
    maxRedirects: options.maxRedirects ?? DEFAULT_MEDIA_MAX_REDIRECTS,
    lookup: options.lookup ?? systemLookup,
  }
}
