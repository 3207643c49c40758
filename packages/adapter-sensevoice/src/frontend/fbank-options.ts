/** The Kaldi fbank settings sherpa-onnx uses for SenseVoice (offline-recognizer-sense-voice-impl.h InitFeatConfig + features.h defaults). */
export interface FbankOptions {
  sampleRate: number
  frameLength: number
  frameShift: number
  fftSize: number
  melBins: number
  lowHz: number
  /** 0 ⇒ Nyquist. */
  highHz: number
  preemphasis: number
  /** Samples are multiplied by this first: 32768 when the model's normalize_samples is 0, else 1. */
  sampleScale: number
}

export const SENSEVOICE_FBANK: FbankOptions = {
  sampleRate: 16000,
  frameLength: 400,
  frameShift: 160,
  fftSize: 512,
  melBins: 80,
  lowHz: 20,
  highHz: 0,
  preemphasis: 0.97,
  sampleScale: 32768,
}
