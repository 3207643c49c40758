/** OpenAI-style ids: a prefix and 24 random hex characters ("chatcmpl-3f9a..."). */
export function newId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
