/** A tone as float samples: `seconds` of `frequency` Hz at `rate`, amplitude 0.5, on `channels` interleaved channels. */
export function tone(frequency: number, rate: number, seconds: number, channels = 1): Float32Array {
  const frames = Math.round(rate * seconds)
  const out = new Float32Array(frames * channels)
  for (let i = 0; i < frames; i++) for (let c = 0; c < channels; c++) out[i * channels + c] = 0.5 * Math.sin((2 * Math.PI * frequency * i) / rate)
  return out
}

/** Encodes samples as a WAV file with the given sample format. */
export function wav(samples: Float32Array, rate: number, channels: number, format: 'u8' | 's16' | 's24' | 's32' | 'f32'): Uint8Array {
  const width = { u8: 1, s16: 2, s24: 3, s32: 4, f32: 4 }[format]
  const data = samples.length * width
  const buffer = new ArrayBuffer(44 + data)
  const view = new DataView(buffer)
  const ascii = (offset: number, text: string) => [...text].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)))
  ascii(0, 'RIFF')
  view.setUint32(4, 36 + data, true)
  ascii(8, 'WAVE')
  ascii(12, 'fmt ')
  view.setUint32(16, 16, true)
  view.setUint16(20, format === 'f32' ? 3 : 1, true)
  view.setUint16(22, channels, true)
  view.setUint32(24, rate, true)
  view.setUint32(28, rate * channels * width, true)
  view.setUint16(32, channels * width, true)
  view.setUint16(34, width * 8, true)
  ascii(36, 'data')
  view.setUint32(40, data, true)
  samples.forEach((value, i) => {
    const at = 44 + i * width
    const clamp = Math.max(-1, Math.min(1, value))
    if (format === 'u8') view.setUint8(at, Math.round(clamp * 127 + 128))
    else if (format === 's16') view.setInt16(at, Math.round(clamp * 32767), true)
    else if (format === 's24') {
      const v = Math.round(clamp * 8388607)
      view.setUint8(at, v & 0xff)
      view.setUint8(at + 1, (v >> 8) & 0xff)
      view.setInt8(at + 2, v >> 16)
    } else if (format === 's32') view.setInt32(at, Math.round(clamp * 2147483647), true)
    else view.setFloat32(at, value, true)
  })
  return new Uint8Array(buffer)
}

/** Root-mean-square level. */
export const rms = (samples: Float32Array) => Math.sqrt(samples.reduce((sum, v) => sum + v * v, 0) / samples.length)

/** The dominant frequency, from the rate of zero crossings. */
export function zeroCrossingFrequency(samples: Float32Array, rate: number): number {
  let crossings = 0
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1]! < 0) !== (samples[i]! < 0)) crossings++
  return (crossings / 2) * (rate / samples.length)
}
