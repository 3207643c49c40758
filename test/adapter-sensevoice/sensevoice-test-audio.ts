import { tone } from '../audio/wav-fixtures.ts'
import { piecesToText } from '../fixtures/sensevoice/sensevoice-vocabulary.ts'
import { scriptedPieces } from '../fixtures/sensevoice/tiny-sensevoice.ts'

/** 8 s of tone and 1 s of silence, eight times: 72 s the engine decodes in eight segments, one at a time. */
export function tonesAndPauses(rate = 16_000): Float32Array {
  const out = new Float32Array(72 * rate)
  for (let k = 0; k < 8; k++) out.set(tone(300 + 50 * k, rate, 8), k * 9 * rate)
  return out
}

/** The scripted model's text for `seconds` of 16 kHz audio: one piece per output frame, ⌈fbank frames / 6⌉ frames. */
export function scriptedText(seconds: number, itn = true): string {
  const fbankFrames = 1 + Math.floor((Math.round(seconds * 16_000) - 400) / 160)
  return piecesToText(scriptedPieces(Math.ceil(fbankFrames / 6), itn))
}
