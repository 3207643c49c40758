/** OpenAI-style ids: a prefix and 24 random base-36 characters ("chatcmpl-k3j..."). */
export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24))
  let suffix = ''
  for (const byte of bytes) suffix += (byte % 36).toString(36)
  return `${prefix}-${suffix}`
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
