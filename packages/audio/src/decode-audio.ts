import { ApiError, BadRequestError, PayloadTooLargeError } from '@cy/core'
import { ffmpegDecode } from './ffmpeg.ts'
import { ffmpegPath } from './ffmpeg-path.ts'
import { FfmpegTimeoutError } from './ffmpeg-timeout-error.ts'
import { resample } from './resampler.ts'
import { wavToMono } from './wav-decoder.ts'
import { isWav, readWavHeader } from './wav-header.ts'

/** Speech models listen at 16 kHz. */
export const SPEECH_RATE = 16_000

export interface AudioLimits {
  /** Longest audio accepted, in seconds (default one hour). */
  maxSeconds?: number
  /** Largest file accepted, in bytes (default 100 MiB). */
  maxBytes?: number
  /** Longest ffmpeg may take to decode one file, in milliseconds (default 120,000). */
  decodeTimeoutMs?: number
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
 * Any common audio file to 16 kHz mono float32: WAV natively (header checked before anything is
 * allocated, then a polyphase resampler), every other format through ffmpeg (bounded in time, in
 * length and by `signal`). Empty files, files that are not audio, and files past the limits are 400s
 * (413 for size), and a format that needs ffmpeg when there is none says so. Blocking work: callers
 * run it off the event loop (the whisper adapter runs it in its engine Worker).
 */
export async function decodeAudio(bytes: Uint8Array, limits: AudioLimits = {}, rate = SPEECH_RATE, signal?: AbortSignal): Promise<DecodedAudio> {
  const maxBytes = limits.maxBytes ?? 100 * 1024 * 1024
  const maxSeconds = limits.maxSeconds ?? 3600
  if (bytes.length === 0) throw new BadRequestError('The audio file is empty', { param: 'file', code: 'empty_file' })
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(`The audio file is ${bytes.length} bytes; the limit is ${maxBytes}`, { param: 'file' })

  let samples: Float32Array
  let decoder: DecodedAudio['decoder']
  if (isWav(bytes)) {
    const header = readWavHeader(bytes)
    const seconds = header.frames / header.sampleRate
    if (seconds > maxSeconds) throw tooLong(`The audio is ${seconds.toFixed(1)} s long; the limit (maxSeconds) is ${maxSeconds} s`)
    samples = resample(wavToMono(bytes, header), header.sampleRate, rate)
    decoder = 'wav'
  } else {
    samples = await decodeWithFfmpeg(bytes, rate, maxSeconds, limits.decodeTimeoutMs ?? 120_000, signal)
    decoder = 'ffmpeg'
  }
  if (samples.length === 0) throw invalid('The file holds no audio samples')
  return { samples, rate, seconds: samples.length / rate, decoder }
}

async function decodeWithFfmpeg(bytes: Uint8Array, rate: number, maxSeconds: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<Float32Array> {
  if (!ffmpegPath()) throw invalid('This audio format needs ffmpeg, which is not installed on the server; send WAV, or install ffmpeg')
  try {
    const decoded = await ffmpegDecode(bytes, rate, { maxSeconds, timeoutMs, signal })
    if (decoded.tooLong) throw tooLong(`The audio is longer than maxSeconds (${maxSeconds} s)`)
    return decoded.samples
  } catch (error) {
    if (ApiError.isInstance(error)) throw error
    if (error instanceof FfmpegTimeoutError) throw invalid(`The file could not be decoded within ${timeoutMs / 1000} s`)
    throw invalid(`The file could not be read as audio (${(error as Error).message.replace(/^ffmpeg failed \(\d+\): /, '')})`)
  }
}

const tooLong = (message: string) => new BadRequestError(message, { param: 'file', code: 'audio_too_long' })
