/** Averages interleaved channels into one. */
export function toMono(samples: Float32Array, channels: number): Float32Array {
  if (channels === 1) return samples
  const frames = Math.floor(samples.length / channels)
  const out = new Float32Array(frames)
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0
    for (let channel = 0; channel < channels; channel++) sum += samples[frame * channels + channel]!
    out[frame] = sum / channels
  }
  return out
}

const HALF_TAPS = 32

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

const BETA = 8.6
const windowNorm = bessel0(BETA)
const kaiser = (x: number) => (Math.abs(x) >= 1 ? 0 : bessel0(BETA * Math.sqrt(1 - x * x)) / windowNorm)

/** Kernel values per input sample of distance: the windowed sinc is tabulated once per rate pair. */
const TABLE_STEPS = 256

function kernelTable(cutoff: number, reach: number): Float32Array {
  const table = new Float32Array(Math.ceil(reach * TABLE_STEPS) + 2)
  for (let k = 0; k < table.length; k++) {
    const t = k / TABLE_STEPS
    const x = t * cutoff
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)
    table[k] = sinc * kaiser(t / reach)
  }
  return table
}

/**
 * Band-limited resampling by windowed sinc (Kaiser, 64 zero crossings at the lower rate's cut-off): what
 * goes down to 16 kHz keeps nothing above 8 kHz to fold back as aliasing. Any ratio, mono input.
 */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return input
  const ratio = toRate / fromRate
  // The cut-off is the lower of the two Nyquist frequencies, a little below it.
  const cutoff = Math.min(1, ratio) * 0.95
  const reach = HALF_TAPS / cutoff
  const table = kernelTable(cutoff, reach)
  const out = new Float32Array(Math.floor(input.length * ratio))
  for (let i = 0; i < out.length; i++) {
    const center = i / ratio
    const first = Math.max(0, Math.ceil(center - reach))
    const last = Math.min(input.length - 1, Math.floor(center + reach))
    let sum = 0
    let weights = 0
    for (let j = first; j <= last; j++) {
      const position = Math.abs(j - center) * TABLE_STEPS
      const k = position | 0
      const weight = table[k]! + (table[k + 1]! - table[k]!) * (position - k)
      sum += input[j]! * weight
      weights += weight
    }
    out[i] = weights === 0 ? 0 : sum / weights
  }
  return out
}
