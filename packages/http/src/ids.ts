// Random bytes are drawn in blocks: one getRandomValues call serves 256 ids.
const BLOCK = 16 * 256
let pool = new Uint8Array(0)
let offset = BLOCK

/** 128 random bits as 32 hex characters. */
function random128Hex(): string {
  if (offset >= pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(BLOCK))
    offset = 0
  }
  const hex = Buffer.from(pool.buffer, offset, 16).toString('hex')
  offset += 16
  return hex
}

/**
 * OpenAI-style ids: a prefix, then 128 random bits in hex ("chatcmpl-3f9a…"; the Responses API's ids use
 * `_`: "resp_3f9a…"). Random, not counted: a stored response's id must not be guessable from another's.
 */
export function newId(prefix: string, separator = '-'): string {
  return `${prefix}${separator}${random128Hex()}`
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
