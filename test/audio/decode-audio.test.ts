import { decodeAudio, ffmpegPath, resample } from '@cy/audio'
import { ApiError } from '@cy/core'
import { describe, expect, test } from 'bun:test'
import { rms, tone, wav, zeroCrossingFrequency } from './wav-fixtures.ts'

/** Encodes a WAV file with ffmpeg into another container, as a client would send it. */
async function encode(wavBytes: Uint8Array, args: string[]): Promise<Uint8Array> {
  const child = Bun.spawn([ffmpegPath()!, '-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', ...args, 'pipe:1'], {
    stdin: new Blob([wavBytes as Uint8Array<ArrayBuffer>]),
    stdout: 'pipe',
  })
  return new Uint8Array(await new Response(child.stdout).arrayBuffer())
}

const apiError = async (promise: Promise<unknown>) => {
  const error = await promise.catch((e: unknown) => e)
  if (!ApiError.isInstance(error)) throw new Error(`expected an API error, got ${String(error)}`)
  return error
}

describe('WAV, decoded natively', () => {
  for (const format of ['u8', 's16', 's24', 's32', 'f32'] as const) {
    test(`${format}: a 440 Hz tone at 16 kHz stays a 440 Hz tone of the same level`, async () => {
      const decoded = await decodeAudio(wav(tone(440, 16_000, 1), 16_000, 1, format))
      expect(decoded.decoder).toBe('wav')
      expect(decoded.rate).toBe(16_000)
      expect(decoded.samples.length).toBe(16_000)
      expect(decoded.seconds).toBe(1)
      expect(zeroCrossingFrequency(decoded.samples, 16_000)).toBeCloseTo(440, -1)
      expect(rms(decoded.samples)).toBeCloseTo(0.5 / Math.SQRT2, 2)
    })
  }

  test('stereo at 44.1 kHz becomes mono at 16 kHz with the tone kept', async () => {
    const decoded = await decodeAudio(wav(tone(1000, 44_100, 2, 2), 44_100, 2, 's16'))
    expect(decoded.samples.length).toBe(32_000)
    expect(zeroCrossingFrequency(decoded.samples.subarray(1000, 31_000), 16_000)).toBeCloseTo(1000, -1)
    expect(rms(decoded.samples.subarray(1000, 31_000))).toBeCloseTo(0.5 / Math.SQRT2, 2)
  })

  test('the resampler low-passes: a 12 kHz tone at 48 kHz (above 8 kHz) does not alias into 16 kHz', () => {
    const out = resample(tone(12_000, 48_000, 1), 48_000, 16_000)
    // Without a low-pass filter it would fold back to 4 kHz at full level.
    expect(rms(out.subarray(500, out.length - 500))).toBeLessThan(0.01)
    const kept = resample(tone(3_000, 48_000, 1), 48_000, 16_000)
    expect(rms(kept.subarray(500, kept.length - 500))).toBeCloseTo(0.5 / Math.SQRT2, 2)
  })
})

describe('other formats, through ffmpeg', () => {
  for (const [name, args] of [
    ['mp3', ['-f', 'mp3']],
    ['ogg/opus', ['-c:a', 'libopus', '-f', 'ogg']],
    ['flac', ['-f', 'flac']],
    ['aac (adts)', ['-c:a', 'aac', '-f', 'adts']],
  ] as const) {
    test(`${name}: the same tone comes out at 16 kHz mono`, async () => {
      const source = wav(tone(440, 24_000, 1), 24_000, 1, 's16')
      const decoded = await decodeAudio(await encode(source, [...args]))
      expect(decoded.decoder).toBe('ffmpeg')
      expect(decoded.seconds).toBeGreaterThan(0.9)
      expect(zeroCrossingFrequency(decoded.samples.subarray(2000, 14_000), 16_000)).toBeCloseTo(440, -1)
    })
  }
})

describe('bad audio is a clear 400', () => {
  test('an empty file', async () => {
    const error = await apiError(decodeAudio(new Uint8Array()))
    expect([error.status, error.param, error.code]).toEqual([400, 'file', 'empty_file'])
  })

  test('a file that is not audio', async () => {
    const error = await apiError(decodeAudio(new TextEncoder().encode('this is a text file, not audio at all')))
    expect([error.status, error.param, error.code]).toEqual([400, 'file', 'invalid_audio'])
  })

  test('a WAV file whose data chunk is missing', async () => {
    const error = await apiError(decodeAudio(wav(tone(440, 16_000, 0.1), 16_000, 1, 's16').slice(0, 36)))
    expect(error.status).toBe(400)
    expect(error.message).toContain('WAV')
  })

  test('past the limits: too long (400), too large (413)', async () => {
    const long = wav(tone(440, 16_000, 2), 16_000, 1, 's16')
    expect((await apiError(decodeAudio(long, { maxSeconds: 1 }))).code).toBe('audio_too_long')
    expect((await apiError(decodeAudio(long, { maxBytes: 1000 }))).status).toBe(413)
  })
})
