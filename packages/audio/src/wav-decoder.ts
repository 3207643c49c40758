import { BadRequestError } from '@cy/core'

export interface PcmAudio {
  /** Interleaved samples in [-1, 1]. */
  samples: Float32Array
  sampleRate: number
  channels: number
}

const FORMAT_PCM = 1
const FORMAT_FLOAT = 3
const FORMAT_EXTENSIBLE = 0xfffe

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE'
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length))
}

const bad = (message: string) => new BadRequestError(`The audio file is not a valid WAV file: ${message}`, { param: 'file', code: 'invalid_audio' })

/** Decodes a RIFF/WAVE file: 8/16/24/32-bit integer or 32-bit float PCM, any channel count and rate. */
export function decodeWav(bytes: Uint8Array): PcmAudio {
  if (!isWav(bytes)) throw bad('no RIFF/WAVE header')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let format: { tag: number; channels: number; rate: number; bits: number } | undefined
  let offset = 12
  while (offset + 8 <= bytes.length) {
    const id = ascii(bytes, offset, 4)
    const size = view.getUint32(offset + 4, true)
    const body = offset + 8
    if (id === 'fmt ') {
      if (size < 16) throw bad('its fmt chunk is too short')
      let tag = view.getUint16(body, true)
      // WAVE_FORMAT_EXTENSIBLE carries the real format in the first two bytes of its sub-format GUID.
      if (tag === FORMAT_EXTENSIBLE && size >= 40) tag = view.getUint16(body + 24, true)
      format = { tag, channels: view.getUint16(body + 2, true), rate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) }
    } else if (id === 'data') {
      if (!format) throw bad('its data comes before its format')
      // Streamed WAVs say 0 or 0xFFFFFFFF: the data runs to the end of the file.
      const end = size === 0 || size === 0xffffffff || body + size > bytes.length ? bytes.length : body + size
      return { samples: toFloat(view, body, end, format.tag, format.bits), sampleRate: format.rate, channels: format.channels }
    }
    offset = body + size + (size % 2)
  }
  throw bad('it has no data chunk')
}

function toFloat(view: DataView, start: number, end: number, tag: number, bits: number): Float32Array {
  const width = bits / 8
  const count = Math.floor((end - start) / width)
  const out = new Float32Array(count)
  if (tag === FORMAT_FLOAT && bits === 32) {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(start + i * 4, true)
    return out
  }
  if (tag !== FORMAT_PCM) throw bad(`format ${tag} is not PCM (convert it, or send another format)`)
  switch (bits) {
    case 8:
      for (let i = 0; i < count; i++) out[i] = (view.getUint8(start + i) - 128) / 128
      return out
    case 16:
      for (let i = 0; i < count; i++) out[i] = view.getInt16(start + i * 2, true) / 32768
      return out
    case 24:
      for (let i = 0; i < count; i++) {
        const at = start + i * 3
        const value = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)
        out[i] = value / 8388608
      }
      return out
    case 32:
      for (let i = 0; i < count; i++) out[i] = view.getInt32(start + i * 4, true) / 2147483648
      return out
    default:
      throw bad(`${bits}-bit samples are not supported`)
  }
}
