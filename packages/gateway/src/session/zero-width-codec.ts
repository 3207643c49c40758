/**
 * A session id hidden in text: each bit a zero-width space (0) or zero-width non-joiner (1), between two
 * word joiners. Invisible to a reader, carried back by any client that returns the conversation.
 */
const ZERO = '\u200B'
const ONE = '\u200C'
const FRAME = '\u2060'
const MARKER = /\u2060([\u200B\u200C]+)\u2060/g

export function encodeMarker(id: string): string {
  let bits = ''
  for (const byte of new TextEncoder().encode(id)) bits += byte.toString(2).padStart(8, '0')
  return FRAME + bits.replaceAll('0', ZERO).replaceAll('1', ONE) + FRAME
}

/** The last session id hidden in `text`, if any. */
export function decodeMarker(text: string): string | undefined {
  let found: string | undefined
  for (const match of text.matchAll(MARKER)) {
    const bits = match[1]!.replaceAll(ZERO, '0').replaceAll(ONE, '1')
    if (bits.length % 8 !== 0) continue
    const bytes = new Uint8Array(bits.length / 8)
    for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(bits.slice(i * 8, i * 8 + 8), 2)
    found = new TextDecoder().decode(bytes)
  }
  return found
}

export function stripMarkers(text: string): string {
  return text.includes(FRAME) ? text.replace(MARKER, '') : text
}
