import { BadRequestError } from '@cy/core'

/** What a WAV header says, checked against the file: nothing is allocated before this passes. */
export interface WavHeader {
  /** 1: integer PCM, 3: IEEE float. */
  format: 1 | 3
  channels: number
  sampleRate: number
  bitsPerSample: 8 | 16 | 24 | 32
  /** Bytes per frame (all channels of one sample). */
  blockAlign: number
  /** Where the samples start, and how many whole frames there are. */
  dataOffset: number
  frames: number
}

const FORMAT_PCM = 1
const FORMAT_FLOAT = 3
const FORMAT_EXTENSIBLE = 0xfffe
/** The highest rate of any real audio interface; past it a header is a mistake or an attack (the resampler's cost grows with it). */
export const MAX_WAV_RATE = 384_000
export const MIN_WAV_RATE = 1_000
/** 7.1 surround; more is not audio a speech model hears. */
export const MAX_WAV_CHANNELS = 8
/** Streaming writers that cannot seek back leave the data size as one of these: the data runs to the end. */
const STREAMED_SIZES = new Set([0, 0xffffffff])

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE'
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length))
}

export const invalidWav = (message: string) => new BadRequestError(`The audio file is not a valid WAV file: ${message}`, { param: 'file', code: 'invalid_audio' })

/**
 * Reads and checks a RIFF/WAVE header: 8/16/24/32-bit integer or 32-bit float PCM, 1 to 8 channels,
 * 1 to 384 kHz, every chunk inside the file. Anything else is a 400 naming `file`.
 */
export function readWavHeader(bytes: Uint8Array): WavHeader {
  if (!isWav(bytes)) throw invalidWav('no RIFF/WAVE header')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let fmt: Omit<WavHeader, 'dataOffset' | 'frames'> | undefined
  let offset = 12
  while (offset + 8 <= bytes.length) {
    const id = ascii(bytes, offset, 4)
    const size = view.getUint32(offset + 4, true)
    const body = offset + 8
    if (id === 'fmt ') {
      if (size < 16) throw invalidWav(`its fmt chunk is ${size} bytes, less than 16`)
      if (body + size > bytes.length) throw invalidWav('its fmt chunk runs past the end of the file')
      fmt = checkFormat(view, body, size)
    } else if (id === 'data') {
      if (!fmt) throw invalidWav('its data comes before its format')
      const available = bytes.length - body
      if (!STREAMED_SIZES.has(size) && size > available) throw invalidWav(`its data chunk says ${size} bytes, but the file holds ${available} after the header (a cut-off upload?)`)
      const length = STREAMED_SIZES.has(size) ? available : size
      return { ...fmt, dataOffset: body, frames: Math.floor(length / fmt.blockAlign) }
    }
    offset = body + size + (size % 2)
  }
  throw invalidWav(offset + 8 > bytes.length && !fmt ? 'it ends inside its header' : 'it has no data chunk')
}

function checkFormat(view: DataView, body: number, size: number): Omit<WavHeader, 'dataOffset' | 'frames'> {
  let tag = view.getUint16(body, true)
  // WAVE_FORMAT_EXTENSIBLE carries the real format in the first two bytes of its sub-format GUID.
  if (tag === FORMAT_EXTENSIBLE && size >= 40) tag = view.getUint16(body + 24, true)
  const channels = view.getUint16(body + 2, true)
  const sampleRate = view.getUint32(body + 4, true)
  const blockAlign = view.getUint16(body + 12, true)
  const bits = view.getUint16(body + 14, true)
  if (tag !== FORMAT_PCM && tag !== FORMAT_FLOAT) throw invalidWav(`format ${tag} is not PCM (convert it, or send another format)`)
  if (channels < 1 || channels > MAX_WAV_CHANNELS) throw invalidWav(`it says ${channels} channels; 1 to ${MAX_WAV_CHANNELS} are accepted`)
  if (sampleRate < MIN_WAV_RATE || sampleRate > MAX_WAV_RATE) throw invalidWav(`it says ${sampleRate} Hz; ${MIN_WAV_RATE} to ${MAX_WAV_RATE} Hz are accepted`)
  if (tag === FORMAT_FLOAT ? bits !== 32 : bits !== 8 && bits !== 16 && bits !== 24 && bits !== 32) {
    throw invalidWav(`${bits}-bit ${tag === FORMAT_FLOAT ? 'float' : 'integer'} samples are not supported (8, 16, 24 or 32-bit integer, 32-bit float)`)
  }
  if (blockAlign !== (channels * bits) / 8) throw invalidWav(`its block align is ${blockAlign}, not ${(channels * bits) / 8} for ${channels} channels of ${bits} bits`)
  return { format: tag, channels, sampleRate, bitsPerSample: bits as WavHeader['bitsPerSample'], blockAlign }
}
