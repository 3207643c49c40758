// Random bytes are drawn in blocks and turned into hex at once: one getRandomValues and one hex encoding
// serve 256 ids, each then a slice of the block's string.
const IDS_PER_BLOCK = 256
const HEX_PER_ID = 32
let pool = ''
let offset = 0

/** 128 random bits as 32 hex characters. */
function random128Hex(): string {
  if (offset >= pool.length) {
    pool = Buffer.from(crypto.getRandomValues(new Uint8Array((IDS_PER_BLOCK * HEX_PER_ID) / 2))).toString('hex')
    offset = 0
  }
  const hex = pool.slice(offset, offset + HEX_PER_ID)
  offset += HEX_PER_ID
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
