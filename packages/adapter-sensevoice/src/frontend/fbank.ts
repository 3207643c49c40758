import { SENSEVOICE_FBANK, type FbankOptions } from './fbank-options.ts'
import { kaldiMelBanks } from './mel-banks.ts'
import { PowerSpectrum } from './power-spectrum.ts'

/** Log-mel features, [frames × bins] row-major. */
export interface Fbank {
  data: Float32Array
  frames: number
  bins: number
}

/** float epsilon, Kaldi's log floor. */
const LOG_FLOOR = 1.1920928955078125e-7

/** Frames Kaldi extracts with snip_edges: only whole frames, the first at sample 0. */
export const fbankFrameCount = (samples: number, frameLength = 400, frameShift = 160): number =>
  samples < frameLength ? 0 : 1 + Math.floor((samples - frameLength) / frameShift)

/**
 * Kaldi fbank as kaldi-native-fbank computes it for SenseVoice: snip edges, no dither, per-frame DC removal,
 * backwards pre-emphasis, Hamming window, zero-padded power spectrum, triangular mel bins, log with a float-eps
 * floor, no energy term. Float32 wherever Kaldi uses float (the stored frame, window, mel weights and sums), so
 * the features equal sherpa-onnx's to the last bit or close to it.
 */
export class FbankComputer {
  readonly options: FbankOptions
  private readonly window: Float32Array
  private readonly banks: ReturnType<typeof kaldiMelBanks>
  private readonly spectrum: PowerSpectrum
  private readonly frame: Float32Array
  private readonly power: Float32Array

  constructor(options: Partial<FbankOptions> = {}) {
    const o = { ...SENSEVOICE_FBANK, ...options }
    this.options = o
    if (o.fftSize < o.frameLength) throw new RangeError(`fftSize ${o.fftSize} < frameLength ${o.frameLength}`)
    this.window = new Float32Array(o.frameLength)
    const a = (2 * Math.PI) / (o.frameLength - 1)
    for (let i = 0; i < o.frameLength; i++) this.window[i] = 0.54 - 0.46 * Math.cos(a * i)
    this.banks = kaldiMelBanks(o.melBins, o.sampleRate, o.fftSize, o.lowHz, o.highHz)
    this.spectrum = new PowerSpectrum(o.fftSize)
    this.frame = new Float32Array(o.fftSize)
    this.power = new Float32Array(o.fftSize / 2 + 1)
  }

  compute(samples: Float32Array): Fbank {
    const { frameLength, frameShift, melBins, sampleScale } = this.options
    const frames = fbankFrameCount(samples.length, frameLength, frameShift)
    const data = new Float32Array(frames * melBins)
    const frame = this.frame
    const coeff = Math.fround(this.options.preemphasis)
    for (let t = 0; t < frames; t++) {
      const at = t * frameShift
      let sum = 0
      for (let i = 0; i < frameLength; i++) {
        frame[i] = samples[at + i]! * sampleScale
        sum = Math.fround(sum + frame[i]!)
      }
      const mean = Math.fround(sum / frameLength)
      for (let i = 0; i < frameLength; i++) frame[i] = frame[i]! - mean
      // Backwards, so each sample uses its unmodified predecessor; the first uses itself (Kaldi's convention).
      for (let i = frameLength - 1; i > 0; i--) frame[i] = frame[i]! - Math.fround(coeff * frame[i - 1]!)
      frame[0] = frame[0]! - Math.fround(coeff * frame[0]!)
      for (let i = 0; i < frameLength; i++) frame[i] = frame[i]! * this.window[i]!
      frame.fill(0, frameLength)
      this.spectrum.compute(frame, this.power)
      const row = t * melBins
      for (let b = 0; b < melBins; b++) {
        const { offset, weights } = this.banks[b]!
        let energy = 0
        for (let k = 0; k < weights.length; k++) energy = Math.fround(energy + Math.fround(weights[k]! * this.power[offset + k]!))
        data[row + b] = Math.log(Math.max(energy, LOG_FLOOR))
      }
    }
    return { data, frames, bins: melBins }
  }
}
