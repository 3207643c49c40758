const f = Math.fround

/** Kaldi's mel scale, in float as kaldi-native-fbank computes it. */
export const melScale = (hz: number): number => f(1127 * f(Math.log(f(1 + f(hz / 700)))))

/** One triangular filter: weights over FFT bins offset … offset + weights.length − 1. */
export interface MelBin {
  offset: number
  weights: Float32Array
}

/**
 * Kaldi's triangular mel filters (kaldi-native-fbank mel-computations.cc InitKaldiMelBanks, no VTLN): `count`
 * bins equally spaced on the mel scale between lowHz and highHz (0 ⇒ Nyquist), over the first fftSize/2 FFT bins
 * (the Nyquist bin is never used). Float arithmetic throughout so the weights equal Kaldi's.
 */
export function kaldiMelBanks(count: number, sampleRate: number, fftSize: number, lowHz = 20, highHz = 0): MelBin[] {
  const fftBins = fftSize / 2
  const nyquist = f(0.5 * sampleRate)
  const high = highHz > 0 ? highHz : f(nyquist + highHz)
  if (lowHz < 0 || lowHz >= nyquist || high <= lowHz || high > nyquist) throw new RangeError(`bad mel range ${lowHz}–${high} Hz`)
  const binWidth = f(sampleRate / fftSize)
  const melLow = melScale(lowHz)
  const melHigh = melScale(high)
  const delta = f(f(melHigh - melLow) / (count + 1))
  const banks: MelBin[] = []
  for (let bin = 0; bin < count; bin++) {
    const left = f(melLow + f(bin * delta))
    const center = f(melLow + f((bin + 1) * delta))
    const right = f(melLow + f((bin + 2) * delta))
    const weights: number[] = []
    let offset = -1
    for (let i = 0; i < fftBins; i++) {
      const mel = melScale(f(binWidth * i))
      if (mel > left && mel < right) {
        if (offset === -1) offset = i
        weights[i - offset] = mel <= center ? f(f(mel - left) / f(center - left)) : f(f(right - mel) / f(right - center))
      }
    }
    if (offset === -1) throw new RangeError(`mel bin ${bin} is empty: too many mel bins for a ${fftSize}-point FFT`)
    banks.push({ offset, weights: Float32Array.from(weights) })
  }
  return banks
}
