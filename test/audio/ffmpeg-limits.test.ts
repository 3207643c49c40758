import { decodeAudio, ffmpegDecode, ffmpegPath, FfmpegTimeoutError } from '@cy/audio'
import { ApiError, CancelledError } from '@cy/core'
import { beforeAll, describe, expect, test } from 'bun:test'

/** Silence from ffmpeg's lavfi source, encoded as a client would upload it: tiny files of long audio. */
async function silence(seconds: number, rate: number, format: string[]): Promise<Uint8Array> {
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `anullsrc=r=${rate}:cl=mono`, '-t', String(seconds), ...format, 'pipe:1']
  const child = Bun.spawn([ffmpegPath()!, ...args], { stdout: 'pipe' })
  return new Uint8Array(await new Response(child.stdout).arrayBuffer())
}

/** Whether a process with this id still exists (a reaped child does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const RATE = 16_000
let flac: Uint8Array
let opus: Uint8Array

beforeAll(async () => {
  flac = await silence(2 * 3600, RATE, ['-f', 'flac'])
  opus = await silence(180, 48_000, ['-c:a', 'libopus', '-f', 'ogg'])
})

describe('ffmpeg on uploads is bounded', () => {
  test('2 h of silence in a small FLAC is refused with 400 "longer than maxSeconds"', async () => {
    expect(flac.length).toBeLessThan(2_000_000)
    const error = await decodeAudio(flac, { maxSeconds: 60 }).catch((e: unknown) => e)
    expect(ApiError.isInstance(error)).toBe(true)
    expect([(error as ApiError).status, (error as ApiError).param, (error as ApiError).code]).toEqual([400, 'file', 'audio_too_long'])
    expect((error as ApiError).message).toContain('longer than maxSeconds')
  })

  for (const [name, file, maxSeconds] of [
    ['FLAC, 2 h', () => flac, 60],
    ['Opus, 3 min', () => opus, 30],
  ] as const) {
    test(`${name}: what ffmpeg writes stops at maxSeconds plus at most one second`, async () => {
      let peak = 0
      const decoded = await ffmpegDecode(file(), RATE, { maxSeconds, onProgress: ({ bytes }) => (peak = Math.max(peak, bytes)) })
      expect(decoded.tooLong).toBe(true)
      expect(peak).toBeGreaterThan(maxSeconds * RATE * 4)
      expect(peak).toBeLessThanOrEqual((maxSeconds + 1) * RATE * 4)
      expect(decoded.samples.length).toBeLessThanOrEqual(maxSeconds * RATE)
    })
  }

  test('audio within maxSeconds is decoded whole, not cut', async () => {
    const decoded = await decodeAudio(opus, { maxSeconds: 180 })
    expect(decoded.seconds).toBeCloseTo(180, 0)
  })

  test('an abort (the client left) kills ffmpeg: the call fails as cancelled and the process is gone', async () => {
    const controller = new AbortController()
    let pid = 0
    const decoding = ffmpegDecode(flac, RATE, {
      maxSeconds: 3 * 3600,
      signal: controller.signal,
      onProgress: (progress) => {
        pid = progress.pid
        if (progress.bytes > 0) controller.abort()
      },
    })
    const error = await decoding.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CancelledError)
    expect(pid).toBeGreaterThan(0)
    expect(alive(pid)).toBe(false)
  })

  test('decodeAudio passes the signal: an aborted request stops its decode', async () => {
    const controller = new AbortController()
    controller.abort()
    expect(await decodeAudio(flac, { maxSeconds: 3 * 3600 }, RATE, controller.signal).catch((e: unknown) => e)).toBeInstanceOf(CancelledError)
  })

  test('past the decode timeout ffmpeg is killed and the file is a 400', async () => {
    let pid = 0
    const error = await ffmpegDecode(flac, RATE, { maxSeconds: 3 * 3600, timeoutMs: 1, onProgress: (progress) => (pid = progress.pid) }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FfmpegTimeoutError)
    expect(alive(pid)).toBe(false)
    const refused = await decodeAudio(flac, { maxSeconds: 3 * 3600, decodeTimeoutMs: 1 }).catch((e: unknown) => e)
    expect([(refused as ApiError).status, (refused as ApiError).param]).toEqual([400, 'file'])
    expect((refused as ApiError).message).toContain('could not be decoded within')
  })
})
