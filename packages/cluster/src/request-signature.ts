import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { AuthenticationError, BadRequestError } from '@cy/core'
import { CLUSTER_MAGIC, DEFAULT_SIGNATURE_WINDOW_MS, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, VERSION_HEADER } from './protocol.ts'

export interface SignOptions {
  /** The signing time (default now); tests sign in the past to see the window. */
  now?: number
  nonce?: string
}

const hex = (value: string | Uint8Array) => createHash('sha256').update(value).digest('hex')

/** HMAC-SHA256 over the version, method, path, timestamp, nonce and the body's SHA-256, one per line. */
function signature(secret: string, method: string, path: string, timestamp: string, nonce: string, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update([CLUSTER_MAGIC, method.toUpperCase(), path, timestamp, nonce, hex(body)].join('\n')).digest('hex')
}

/**
 * The headers of one internal call: the protocol version, a timestamp, a nonce and, with a secret, their
 * signature with the body's hash. The secret itself never travels.
 */
export function signRequest(secret: string | undefined, method: string, path: string, body: string | Uint8Array, options: SignOptions = {}): Record<string, string> {
  const timestamp = String(options.now ?? Date.now())
  const nonce = options.nonce ?? randomUUID()
  const headers: Record<string, string> = { [VERSION_HEADER]: CLUSTER_MAGIC, [TIMESTAMP_HEADER]: timestamp, [NONCE_HEADER]: nonce }
  if (secret) headers[SIGNATURE_HEADER] = signature(secret, method, path, timestamp, nonce, body)
  return headers
}

export interface VerifierOptions {
  /** How far a call's timestamp may be from this node's clock, either way (default 30 s). */
  windowMs?: number
  /** How many signatures are remembered to refuse replays (default 100,000; the oldest go first). */
  remember?: number
}

const unauthenticated = () => new AuthenticationError('Wrong or missing cluster secret', { code: 'invalid_cluster_secret' })

/**
 * Checks the calls a node receives. Every call must speak this protocol version. With a secret, it must
 * also be signed with it, within the time window, and not seen before (a signature is remembered until
 * its window has passed). Without one, calls are taken unsigned: only for nodes on loopback.
 */
export class RequestVerifier {
  readonly windowMs: number
  readonly #remember: number
  /** Signatures accepted, and when each leaves the window (insertion order is roughly that order). */
  readonly #seen = new Map<string, number>()

  constructor(
    readonly secret: string | undefined,
    options: VerifierOptions = {},
  ) {
    this.windowMs = options.windowMs ?? DEFAULT_SIGNATURE_WINDOW_MS
    this.#remember = options.remember ?? 100_000
  }

  /** What can be checked before the body is read: the version and the timestamp. */
  checkHeaders(headers: Headers): void {
    const version = headers.get(VERSION_HEADER)
    if (version !== CLUSTER_MAGIC) {
      const theirs = version ? `the caller speaks ${version}` : 'the caller sent no protocol version (an older cy, or not a cy node)'
      throw new BadRequestError(`This node speaks ${CLUSTER_MAGIC}; ${theirs}: run the same cy version on every node`, { code: 'protocol_mismatch' })
    }
    if (!this.secret) return
    const timestamp = Number(headers.get(TIMESTAMP_HEADER))
    if (!Number.isSafeInteger(timestamp) || !headers.get(SIGNATURE_HEADER)) throw unauthenticated()
    const skew = timestamp - Date.now()
    if (Math.abs(skew) > this.windowMs) {
      throw new AuthenticationError(
        `The call was signed ${Math.round(Math.abs(skew) / 1000)} s ${skew < 0 ? 'ago' : 'ahead of this node’s clock'}; more than ${this.windowMs / 1000} s either way is refused (check the nodes' clocks)`,
        { code: 'stale_cluster_request' },
      )
    }
  }

  /** With a secret: the signature over the call and its body, and that it was not seen before. */
  checkSignature(method: string, path: string, headers: Headers, body: Uint8Array): void {
    if (!this.secret) return
    const timestamp = headers.get(TIMESTAMP_HEADER) ?? ''
    const given = headers.get(SIGNATURE_HEADER) ?? ''
    const expected = Buffer.from(signature(this.secret, method, path, timestamp, headers.get(NONCE_HEADER) ?? '', body), 'hex')
    const candidate = /^[0-9a-f]{64}$/i.test(given) ? Buffer.from(given, 'hex') : Buffer.alloc(expected.length)
    if (!timingSafeEqual(candidate, expected) || !/^[0-9a-f]{64}$/i.test(given)) throw unauthenticated()
    this.#forget(Date.now())
    const key = given.toLowerCase()
    if (this.#seen.has(key)) throw new AuthenticationError('This call was received before: a replay is refused', { code: 'replayed_cluster_request' })
    this.#seen.set(key, Number(timestamp) + this.windowMs)
  }

  #forget(now: number): void {
    for (const [key, expires] of this.#seen) {
      if (expires >= now && this.#seen.size < this.#remember) break
      this.#seen.delete(key)
    }
  }
}
