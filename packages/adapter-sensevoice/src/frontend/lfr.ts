/** Output frames of LFR over `frames` input frames: ⌈T/n⌉ (sherpa-onnx ≥ 1.13.5 lfr.cc, with edge padding). */
export const lfrFrameCount = (frames: number, shift = 6): number => (frames <= 0 ? 0 : 1 + Math.floor((frames - 1) / shift))

/**
 * Low frame rate stacking: output frame i is the concatenation of input frames clamp(n·i − ⌊(m−1)/2⌋ + j, 0, T−1),
 * j = 0..m−1 (frame-major), so the edges repeat the first and last frame. For SenseVoice m = 7, n = 6: frames
 * 6i−3 … 6i+3. The older unpadded form ((T−m)/n + 1 frames) does not match the model's training and drops the tail.
 */
export function applyLfr(data: Float32Array, frames: number, dim: number, window = 7, shift = 6): { data: Float32Array; frames: number } {
  const out = lfrFrameCount(frames, shift)
  const outDim = dim * window
  const result = new Float32Array(out * outDim)
  const left = Math.floor((window - 1) / 2)
  for (let i = 0; i < out; i++) {
    for (let j = 0; j < window; j++) {
      const source = Math.min(Math.max(shift * i - left + j, 0), frames - 1)
      result.set(data.subarray(source * dim, (source + 1) * dim), i * outDim + j * dim)
    }
  }
  return { data: result, frames: out }
}
