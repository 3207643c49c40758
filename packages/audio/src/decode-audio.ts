import { BadRequestError, PayloadTooLargeError } from '@cy/core'
import { ffmpegDecode, ffmpegPath } from './ffmpeg.ts'
import { resample, toMono } from './resampler.ts'
import { decodeWav, isWav } from './wav-decoder.ts'

/** Speech models listen at 16 kHz. */
export const SPEECH_RATE = 16_000

export interface AudioLimits {
  /** Longest audio accepted, in seconds (default one hour). */
  maxSeconds?: number
  /** Largest file accepted, in bytes (default 100 MiB). */
  maxBytes?: number
}

export interface DecodedAudio {
  /** Mono float samples at `rate`. */
  samples: Float32Array
  rate: number
  seconds: number
  /** How it was read: natively (WAV) or by ffmpeg. */
  decoder: 'wav' | 'ffmpeg'
}

const invalid = (message: string) => new BadRequestError(message, { param: 'file', code: 'invalid_audio' })

/**
 * Any common audio file to 16 kHz mono float32: WAV natively (then a band-limited resampler), every other
 * format through ffmpeg. Empty files, files that are not audio, and files past the limits are 400s
 * (413 for size), and a format that needs ffmpeg when there is none says so.
 */
export async function decodeAudio(bytes: Uint8Array, limits: AudioLimits = {}, rate = SPEECH_RATE): Promise<DecodedAudio> {
  const maxBytes = limits.maxBytes ?? 100 * 1024 * 1024
  const maxSeconds = limits.maxSeconds ?? 3600
  if (bytes.length === 0) throw new BadRequestError('The audio file is empty', { param: 'file', code: 'empty_file' })
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(`The audio file is ${bytes.length} bytes; the limit is ${maxBytes}`, { param: 'file' })

  let samples: Float32Array
  let decoder: DecodedAudio['decoder']
  if (isWav(bytes)) {
    const wav = decodeWav(bytes)
    if (wav.channels < 1 || wav.sampleRate < 1000) throw invalid(`The WAV file says ${wav.channels} channels at ${wav.sampleRate} Hz`)
    if (wav.samples.length / wav.channels / wav.sampleRate > maxSeconds) throw tooLong(wav.samples.length / wav.channels / wav.sampleRate, maxSeconds)
    samples = resample(toMono(wav.samples, wav.channels), wav.sampleRate, rate)
    decoder = 'wav'
  } else {
    if (!ffmpegPath()) {
      throw invalid('This audio format needs ffmpeg, which is not installed on the server; send WAV, or install ffmpeg')
    }
    try {
      samples = await ffmpegDecode(bytes, rate)
    } catch (error) {
      throw invalid(`The file could not be read as audio (${(error as Error).message.replace(/^ffmpeg failed \(\d+\): /, '')})`)
    }
    decoder = 'ffmpeg'
  }
  if (samples.length === 0) throw invalid('The file holds no audio samples')
  const seconds = samples.length / rate
  if (seconds > maxSeconds) throw tooLong(seconds, maxSeconds)
  return { samples, rate, seconds, decoder }
}

function tooLong(seconds: number, maxSeconds: number): BadRequestError {
  return new BadRequestError(`The audio is ${seconds.toFixed(1)} s long; the limit is ${maxSeconds} s`, { param: 'file', code: 'audio_too_long' })
}
