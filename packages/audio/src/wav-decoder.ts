import { invalidWav, readWavHeader, type WavHeader } from './wav-header.ts'

/**
 * The header's frames as mono floats in [-1, 1], channels averaged, in one pass over typed views of the
 * samples (copied once only when they do not start on a multiple of their width).
 */
export function wavToMono(bytes: Uint8Array, header: WavHeader = readWavHeader(bytes)): Float32Array {
  const { channels, frames, dataOffset, bitsPerSample: bits, format } = header
  const count = frames * channels
  const width = bits / 8
  const start = bytes.byteOffset + dataOffset
  const data = start % width === 0 || width === 3 ? bytes : bytes.slice(dataOffset, dataOffset + count * width)
  const at = data === bytes ? start : 0
  const out = new Float32Array(frames)
  let samples: ArrayLike<number>
  let scale: number
  let bias = 0
  if (format === 3) [samples, scale] = [new Float32Array(data.buffer, at, count), 1]
  else if (bits === 8) [samples, scale, bias] = [new Uint8Array(data.buffer, at, count), 1 / 128, -128]
  else if (bits === 16) [samples, scale] = [new Int16Array(data.buffer, at, count), 1 / 32768]
  else if (bits === 32) [samples, scale] = [new Int32Array(data.buffer, at, count), 1 / 2147483648]
  else if (bits === 24) return mono24(new Uint8Array(data.buffer, at, count * 3), channels, out)
  else throw invalidWav(`${bits}-bit samples are not supported`)
  const gain = scale / channels
  if (channels === 1) {
    for (let i = 0; i < frames; i++) out[i] = (samples[i]! + bias) * scale
    return out
  }
  for (let frame = 0, i = 0; frame < frames; frame++) {
    let sum = 0
    for (let c = 0; c < channels; c++) sum += samples[i++]! + bias
    out[frame] = sum * gain
  }
  return out
}

function mono24(bytes: Uint8Array, channels: number, out: Float32Array): Float32Array {
  const gain = 1 / 8388608 / channels
  for (let frame = 0, i = 0; frame < out.length; frame++) {
    let sum = 0
    for (let c = 0; c < channels; c++, i += 3) sum += ((bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16)) << 8) >> 8
    out[frame] = sum * gain
  }
  return out
}
