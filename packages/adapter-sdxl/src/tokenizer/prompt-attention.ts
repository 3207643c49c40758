import { BadRequestError } from '@cy/core'

/** A piece of a prompt and its attention weight; `BREAK` with weight -1 marks a chunk break. */
export type AttentionSegment = [text: string, weight: number]

const f32 = Math.fround
const ROUND = f32(1.1)
const SQUARE = f32(1 / ROUND)
// core/util.cpp's re_attention, alternative for alternative; it is run on what is left each time, as there.
const ATTENTION = /\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:([+-]?[.\d]+)\)|\)|\]|\bBREAK\b|[^\\()[\]:B]+|:|\bB/
const FLOAT_PREFIX = /^[+-]?(?:\d+\.?\d*|\.\d+)/
const FLT_MIN = 1.1754943508222875e-38

/**
 * stable-diffusion.cpp's parse_prompt_attention (core/util.cpp:795), A1111's syntax with its quirks kept:
 * `(a)` ×1.1, `(a:1.3)`, `[a]` ÷1.1, unbalanced brackets closed at the end, only `\(` unescaped (the other
 * escapes keep their backslash), `BREAK` as its own word, and neighbours of equal (float32) weight merged.
 * A weight std::stof refuses (`(a:.)`, one past float range) aborts the engine process (an uncaught C++
 * exception): here it is a 400 BadRequestError naming `param`, so check every prompt before it reaches sd.cpp.
 */
export function parsePromptAttention(text: string, param = 'prompt'): AttentionSegment[] {
  const res: AttentionSegment[] = []
  const round: number[] = []
  const square: number[] = []
  const multiply = (start: number, by: number): void => {
    for (let p = start; p < res.length; p++) res[p]![1] = f32(res[p]![1] * by)
  }
  let remaining = text
  for (let m = ATTENTION.exec(remaining); m; m = ATTENTION.exec(remaining)) {
    const piece = m[0]
    const weight = m[1]
    if (piece === '(') round.push(res.length)
    else if (piece === '[') square.push(res.length)
    else if (weight !== undefined) {
      // Read only with a bracket open, as there: a stray `a:.)` is dropped unread.
      if (round.length) multiply(round.pop()!, stof(weight, param))
    } else if (piece === ')' && round.length) multiply(round.pop()!, ROUND)
    else if (piece === ']' && square.length) multiply(square.pop()!, SQUARE)
    else if (piece === '\\(') res.push([piece.slice(1), 1])
    else if (piece === 'BREAK') res.push(['BREAK', -1])
    else res.push([piece, 1])
    remaining = remaining.slice(m.index + piece.length)
  }
  for (const at of round) multiply(at, ROUND)
  for (const at of square) multiply(at, SQUARE)
  if (res.length === 0) res.push(['', 1])
  for (let i = 0; i + 1 < res.length; ) {
    if (res[i]![1] === res[i + 1]![1]) {
      res[i]![0] += res[i + 1]![0]
      res.splice(i + 1, 1)
    } else i++
  }
  return res
}

/** std::stof: the longest float prefix, as float32; none, or out of float range, is what makes it throw. */
function stof(text: string, param: string): number {
  const prefix = FLOAT_PREFIX.exec(text)?.[0]
  const value = prefix === undefined ? Number.NaN : Number.parseFloat(prefix)
  const single = f32(value)
  if (!Number.isFinite(single) || (value !== 0 && Math.abs(single) < FLT_MIN)) {
    throw new BadRequestError(`prompt weight ':${text})' is not a number stable-diffusion.cpp can read`, { param, code: 'invalid_prompt_weight' })
  }
  return single
}
