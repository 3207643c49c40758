import { createHash, timingSafeEqual } from 'node:crypto'

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * Holds the accepted API keys as SHA-256 digests and compares in constant time: hashing first gives
 * equal lengths, so neither the key's content nor its length leaks through timing.
 */
export class ApiKeyGuard {
  #digests: Buffer[] = []

  set(keys: string | readonly string[] | null | undefined): void {
    const list = keys == null ? [] : typeof keys === 'string' ? [keys] : keys
    this.#digests = list.filter((key) => key.length > 0).map(digest)
  }

  get enabled(): boolean {
    return this.#digests.length > 0
  }

  /** The key from `Authorization: Bearer <key>` or `X-API-Key`, if any. */
  static keyFrom(headers: Headers): string | undefined {
    const authorization = headers.get('authorization')
    if (authorization) {
      const match = /^Bearer\s+(.+)$/i.exec(authorization.trim())
      if (match) return match[1]!.trim()
    }
    return headers.get('x-api-key')?.trim() || undefined
  }

  accepts(key: string | undefined): boolean {
    if (!this.enabled) return true
    if (!key) return false
    const candidate = digest(key)
    let accepted = false
    // Every key is compared, so the time does not depend on which one matched.
    for (const expected of this.#digests) accepted = timingSafeEqual(candidate, expected) || accepted
    return accepted
  }
}
