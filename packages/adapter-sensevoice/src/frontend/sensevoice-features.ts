import { applyCmvn } from './cmvn.ts'
import { FbankComputer } from './fbank.ts'
import { applyLfr } from './lfr.ts'

/** The frontend settings a SenseVoice model's metadata carries (lfr_window_size, lfr_window_shift, neg_mean, inv_stddev, normalize_samples). */
export interface SenseVoiceFrontendMeta {
  lfrWindowSize: number
  lfrWindowShift: number
  negMean: ArrayLike<number>
  invStddev: ArrayLike<number>
  /** 0 (sherpa's export) ⇒ samples are scaled by 32768 before the fbank. */
  normalizeSamples: number
}

const computers = new Map<number, FbankComputer>()

/**
 * The model input `x` for 16 kHz mono samples in [-1, 1): fbank (80) → LFR (×lfrWindowSize) → CMVN,
 * [frames × 80·lfrWindowSize] row-major. Fewer than 400 samples give 0 frames (the caller must not run the model).
 */
export function senseVoiceFeatures(samples16k: Float32Array, meta: SenseVoiceFrontendMeta): { data: Float32Array; frames: number } {
  const scale = meta.normalizeSamples ? 1 : 32768
  let computer = computers.get(scale)
  if (!computer) computers.set(scale, (computer = new FbankComputer({ sampleScale: scale })))
  const mel = computer.compute(samples16k)
  const stacked = applyLfr(mel.data, mel.frames, mel.bins, meta.lfrWindowSize, meta.lfrWindowShift)
  if (meta.negMean.length !== mel.bins * meta.lfrWindowSize) {
    throw new RangeError(`CMVN has ${meta.negMean.length} values; LFR features have ${mel.bins * meta.lfrWindowSize}`)
  }
  if (stacked.frames > 0) applyCmvn(stacked.data, meta.negMean, meta.invStddev)
  return stacked
}
