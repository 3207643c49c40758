/** Float audio to s16le bytes: clipped to [-1, 1] and scaled by 32767 (Piper's and sherpa-onnx's conversion), with `leading` samples of silence first. */
export function pcmBytes(samples: Float32Array, leading = 0): Uint8Array {
  const out = new Int16Array(leading + samples.length)
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i]!
    out[leading + i] = Math.round((x > 1 ? 1 : x < -1 ? -1 : x) * 32767)
  }
  return new Uint8Array(out.buffer)
}
