// Ids need to be unique, not secret: a random prefix per process and a counter are enough, and cheap.
const processPrefix = crypto.randomUUID().replaceAll('-', '').slice(0, 12)
let counter = 0

/**
 * OpenAI-style ids: a prefix, then 12 random hex characters for this process and a counter
 * ("chatcmpl-3f9a…1k"; the Responses API's ids use `_`: "resp_3f9a…1k").
 */
export function newId(prefix: string, separator = '-'): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `${prefix}${separator}${processPrefix}${counter.toString(36).padStart(8, '0')}`
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
