/**
 * Power spectrum |X[k]|², k = 0..n/2, of a real frame of length n (a power of two), by a radix-2 complex FFT
 * of n/2 points plus the real-input split. The transform runs in double precision and its output is rounded
 * to float before squaring, as kaldi-native-fbank does (rfft.cc: double rdft, result copied back to float).
 */
export class PowerSpectrum {
  readonly size: number
  private readonly half: number
  private readonly bitReverse: Uint32Array
  private readonly cos: Float64Array
  private readonly sin: Float64Array
  private readonly splitCos: Float64Array
  private readonly splitSin: Float64Array
  private readonly re: Float64Array
  private readonly im: Float64Array

  constructor(size: number) {
    if (size < 4 || (size & (size - 1)) !== 0) throw new RangeError(`FFT size must be a power of two >= 4, got ${size}`)
    this.size = size
    const half = size / 2
    this.half = half
    const bits = Math.log2(half)
    this.bitReverse = new Uint32Array(half)
    for (let i = 0; i < half; i++) {
      let r = 0
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b)
      this.bitReverse[i] = r
    }
    // Twiddles of the half-size complex FFT, and of the split that turns it into the real FFT of `size` points.
    this.cos = new Float64Array(half / 2)
    this.sin = new Float64Array(half / 2)
    for (let k = 0; k < half / 2; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / half)
      this.sin[k] = -Math.sin((2 * Math.PI * k) / half)
    }
    this.splitCos = new Float64Array(half + 1)
    this.splitSin = new Float64Array(half + 1)
    for (let k = 0; k <= half; k++) {
      this.splitCos[k] = Math.cos((2 * Math.PI * k) / size)
      this.splitSin[k] = -Math.sin((2 * Math.PI * k) / size)
    }
    this.re = new Float64Array(half)
    this.im = new Float64Array(half)
  }

  /** Writes size/2 + 1 float powers of `frame` (length `size`) into `out`. */
  compute(frame: Float32Array, out: Float32Array): void {
    const { half, re, im, bitReverse } = this
    for (let i = 0; i < half; i++) {
      const j = bitReverse[i]!
      re[j] = frame[2 * i]!
      im[j] = frame[2 * i + 1]!
    }
    for (let len = 2; len <= half; len <<= 1) {
      const step = half / len
      const h = len >> 1
      for (let start = 0; start < half; start += len) {
        for (let k = 0; k < h; k++) {
          const wr = this.cos[k * step]!
          const wi = this.sin[k * step]!
          const a = start + k
          const b = a + h
          const xr = re[b]! * wr - im[b]! * wi
          const xi = re[b]! * wi + im[b]! * wr
          re[b] = re[a]! - xr
          im[b] = im[a]! - xi
          re[a] = re[a]! + xr
          im[a] = im[a]! + xi
        }
      }
    }
    for (let k = 0; k <= half; k++) {
      const zr = re[k % half]!
      const zi = im[k % half]!
      const cr = re[(half - k) % half]!
      const ci = -im[(half - k) % half]!
      // X[k] = (Z[k] + conj Z[h−k]) / 2 + W^k (Z[k] − conj Z[h−k]) / 2i
      const er = (zr + cr) / 2
      const ei = (zi + ci) / 2
      const orr = (zi - ci) / 2
      const oi = -(zr - cr) / 2
      const wr = this.splitCos[k]!
      const wi = this.splitSin[k]!
      const xr = Math.fround(er + orr * wr - oi * wi)
      const xi = Math.fround(ei + orr * wi + oi * wr)
      out[k] = Math.fround(xr * xr) + Math.fround(xi * xi)
    }
  }
}
