import { decodeAudio, ffmpegPath, resample } from '@cy/audio'
import { ApiError } from '@cy/core'
import { describe, expect, test } from 'bun:test'
import { firKernel } from '../../packages/audio/src/fir-kernel.ts'
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

  for (const format of ['u8', 's16', 's24', 's32', 'f32'] as const) {
    test(`${format}, 3 channels: averaged into one (a tone on one channel comes out at a third)`, async () => {
      const mono = tone(440, 16_000, 0.5)
      const three = new Float32Array(mono.length * 3)
      for (let i = 0; i < mono.length; i++) three[i * 3 + 1] = mono[i]!
      const decoded = await decodeAudio(wav(three, 16_000, 3, format))
      expect(decoded.samples.length).toBe(mono.length)
      expect(rms(decoded.samples)).toBeCloseTo(rms(mono) / 3, 2)
      expect(zeroCrossingFrequency(decoded.samples, 16_000)).toBeCloseTo(440, -1)
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

describe('the polyphase resampler', () => {
  test('its WebAssembly SIMD loop and its JS loop agree to float precision, exact and rounded phases', () => {
    expect(firKernel(new WebAssembly.Memory({ initial: 1 }))).toBeFunction()
    for (const rate of [8_000, 44_100, 44_101, 384_000]) {
      const input = tone(1234, rate, 2.3)
      for (let i = 0; i < input.length; i++) input[i]! += 0.3 * Math.sin(i * 12.9898)
      const simd = resample(input, rate, 16_000)
      const js = resample(input, rate, 16_000, { simd: false })
      expect(simd.length).toBe(js.length)
      let worst = 0
      for (let i = 0; i < js.length; i++) worst = Math.max(worst, Math.abs(simd[i]! - js[i]!))
      expect(worst).toBeLessThan(1e-5)
    }
  })

  for (const rate of [8_000, 22_050, 44_100, 44_101, 96_000, 384_000]) {
    test(`${rate} Hz: a 1 kHz tone comes out at 16 kHz with its frequency and level, and the right length`, () => {
      const out = resample(tone(1000, rate, 1), rate, 16_000)
      expect(out.length).toBe(16_000)
      const middle = out.subarray(500, 15_500)
      expect(zeroCrossingFrequency(middle, 16_000)).toBeCloseTo(1000, -1)
      expect(rms(middle)).toBeCloseTo(0.5 / Math.SQRT2, 2)
    })
  }
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
