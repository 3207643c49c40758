/**
 * Band-limited resampling by a polyphase windowed-sinc filter: 16 zero crossings on each side of the
 * lower rate's cut-off (ffmpeg's default length), Kaiser window, so what goes down to 16 kHz keeps
 * nothing above 8 kHz to fold back as aliasing. The ratio is reduced to up/down; each of its phases
 * (at most MAX_PHASES, the nearest one past that) gets its kernel computed once, normalized to unit
 * gain, so each output sample costs one multiply-add per tap and nothing else.
 */
import { firKernel } from './fir-kernel.ts'

const ZERO_CROSSINGS = 16
const MAX_PHASES = 1024
/** Outputs per call into the SIMD loop: its memory stays a few MB whatever the length. */
const BLOCK = 1 << 16
const BETA = 8.6

/** A zeroth-order modified Bessel function, for the Kaiser window. */
function bessel0(x: number): number {
  let sum = 1
  let term = 1
  for (let k = 1; k < 25; k++) {
    term *= (x / (2 * k)) ** 2
    sum += term
  }
  return sum
}

const windowNorm = bessel0(BETA)
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

interface Kernels {
  /** `phases + 1` kernels of `taps` weights each; the last is fraction 1, the first one step on. */
  weights: Float32Array
  phases: number
  taps: number
  /** Taps before the output's position. */
  before: number
}

function kernels(cutoff: number, phases: number): Kernels {
  const reach = ZERO_CROSSINGS / cutoff
  // Every input within `reach` of any fraction in [0, 1], rounded up to a multiple of eight taps so the
  // inner loops run their accumulators without a remainder.
  const before = Math.ceil(reach)
  const taps = Math.ceil((before + reach + 2) / 8) * 8
  const weights = new Float32Array((phases + 1) * taps)
  for (let phase = 0; phase <= phases; phase++) {
    const fraction = phase / phases
    let sum = 0
    for (let t = 0; t < taps; t++) {
      const distance = t - before - fraction
      const x = distance * cutoff
      const inside = Math.abs(distance) < reach
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)
      const w = inside ? (sinc * bessel0(BETA * Math.sqrt(1 - (distance / reach) ** 2))) / windowNorm : 0
      weights[phase * taps + t] = w
      sum += w
    }
    for (let t = 0; t < taps; t++) weights[phase * taps + t]! /= sum
  }
  return { weights, phases, taps, before }
}

interface Plan extends Kernels {
  up: number
  down: number
}

/** Resamples mono samples from one rate to another (integer rates, any ratio); `simd: false` takes the JS loop. */
export function resample(input: Float32Array, fromRate: number, toRate: number, options: { simd?: boolean } = {}): Float32Array {
  if (fromRate === toRate) return input
  const divisor = gcd(fromRate, toRate)
  const up = toRate / divisor
  const down = fromRate / divisor
  const plan = { ...kernels(Math.min(1, toRate / fromRate) * 0.95, Math.min(up, MAX_PHASES)), up, down }
  // Zeros on both sides: the loops never check bounds.
  const padded = new Float32Array(input.length + plan.taps * 2)
  padded.set(input, plan.taps)
  const out = new Float32Array(Math.floor((input.length * toRate) / fromRate))
  if (options.simd === false || !resampleSimd(padded, out, plan)) resampleScalar(padded, out, plan)
  return out
}

/** Block by block through the WebAssembly SIMD loop; false where there is none. */
function resampleSimd(padded: Float32Array, out: Float32Array, { weights, phases, taps, before, up, down }: Plan): boolean {
  const inputBlock = Math.ceil((BLOCK * down) / up) + taps + 2
  const inputAt = weights.length
  const outputAt = inputAt + inputBlock
  const memory = new WebAssembly.Memory({ initial: Math.ceil(((outputAt + BLOCK) * 4) / 65_536) })
  const fir = firKernel(memory)
  if (!fir) return false
  const heap = new Float32Array(memory.buffer)
  heap.set(weights)
  for (let first = 0; first < out.length; first += BLOCK) {
    const count = Math.min(BLOCK, out.length - first)
    // The block's first output sits at input `index + numerator / up`; its first tap is `before` inputs earlier.
    const position = first * down
    const start = Math.floor(position / up) + taps - before
    heap.set(padded.subarray(start, start + inputBlock), inputAt)
    fir(0, taps, inputAt * 4, outputAt * 4, count, position % up, up, down, phases, phases === up ? 1 : 0)
    out.set(heap.subarray(outputAt, outputAt + count), first)
  }
  return true
}

function resampleScalar(padded: Float32Array, out: Float32Array, { weights, phases, taps, before, up, down }: Plan): void {
  const exact = phases === up
  // The output's position in the input is `index + numerator / up`.
  let index = 0
  let numerator = 0
  for (let i = 0; i < out.length; i++) {
    const phase = exact ? numerator : Math.round((numerator * phases) / up)
    const k = phase * taps
    const base = index + taps - before
    let s0 = 0
    let s1 = 0
    let s2 = 0
    let s3 = 0
    for (let t = 0; t < taps; t += 4) {
      s0 += padded[base + t]! * weights[k + t]!
      s1 += padded[base + t + 1]! * weights[k + t + 1]!
      s2 += padded[base + t + 2]! * weights[k + t + 2]!
      s3 += padded[base + t + 3]! * weights[k + t + 3]!
    }
    out[i] = s0 + s1 + s2 + s3
    numerator += down
    if (numerator >= up) {
      index += Math.floor(numerator / up)
      numerator %= up
    }
  }
}
