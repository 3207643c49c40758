import type { CtcHit } from './ctc-greedy.ts'

/** Decoded text of one token, or of a run of byte-fallback tokens that together spell UTF-8, at its first frame. */
export interface PieceUnit {
  text: string
  frame: number
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/
const utf8 = new TextDecoder('utf-8')

/**
 * Turns hits into text units: "▁" (U+2581, sentencepiece's word boundary) becomes a space, and consecutive
 * `<0xNN>` byte-fallback pieces are merged and decoded as UTF-8 (an invalid sequence decodes to U+FFFD).
 */
export function pieceUnits(hits: readonly CtcHit[], symbols: ReadonlyArray<string | undefined>): PieceUnit[] {
  const units: PieceUnit[] = []
  let bytes: number[] = []
  let bytesFrame = 0
  const flush = () => {
    if (bytes.length > 0) units.push({ text: utf8.decode(Uint8Array.from(bytes)), frame: bytesFrame })
    bytes = []
  }
  for (const hit of hits) {
    const piece = symbols[hit.id]
    if (piece === undefined) throw new RangeError(`token id ${hit.id} is not in tokens.txt`)
    const byte = BYTE_PIECE.exec(piece)
    if (byte) {
      if (bytes.length === 0) bytesFrame = hit.frame
      bytes.push(parseInt(byte[1]!, 16))
      continue
    }
    flush()
    units.push({ text: piece.replaceAll('\u2581', ' '), frame: hit.frame })
  }
  flush()
  return units
}
