import { decodeAudio } from '@cy/audio'
import { ApiError } from '@cy/core'
import { describe, expect, test } from 'bun:test'
import { tone, wav } from './wav-fixtures.ts'

/** A valid 16-bit mono WAV of 0.1 s at 16 kHz, to break one field at a time. */
const good = () => wav(tone(440, 16_000, 0.1), 16_000, 1, 's16')

/** The good file with header fields overwritten (little-endian, at their canonical offsets). */
function withHeader(fields: { channels?: number; rate?: number; byteRate?: number; blockAlign?: number; bits?: number; tag?: number; dataSize?: number; fmtSize?: number }): Uint8Array {
  const bytes = good()
  const view = new DataView(bytes.buffer)
  if (fields.fmtSize !== undefined) view.setUint32(16, fields.fmtSize, true)
  if (fields.tag !== undefined) view.setUint16(20, fields.tag, true)
  if (fields.channels !== undefined) view.setUint16(22, fields.channels, true)
  if (fields.rate !== undefined) view.setUint32(24, fields.rate, true)
  if (fields.byteRate !== undefined) view.setUint32(28, fields.byteRate, true)
  if (fields.blockAlign !== undefined) view.setUint16(32, fields.blockAlign, true)
  if (fields.bits !== undefined) view.setUint16(34, fields.bits, true)
  if (fields.dataSize !== undefined) view.setUint32(40, fields.dataSize, true)
  return bytes
}

/** Decodes and returns the API error it must fail with; anything else (a crash, a success, a plain Error) fails the test. */
async function refusal(bytes: Uint8Array): Promise<ApiError> {
  const outcome = await decodeAudio(bytes).then(
    () => new Error('decoded without complaint'),
    (error: unknown) => error,
  )
  if (!ApiError.isInstance(outcome)) throw new Error(`expected a 400, got ${String(outcome)}`)
  return outcome
}

const cases: Array<[string, () => Uint8Array]> = [
  ['sample rate 0', () => withHeader({ rate: 0 })],
  ['sample rate 999 Hz', () => withHeader({ rate: 999 })],
  ['sample rate 384,001 Hz', () => withHeader({ rate: 384_001 })],
  ['sample rate 200,000,000 Hz', () => withHeader({ rate: 200_000_000 })],
  ['sample rate 0xFFFFFFFF', () => withHeader({ rate: 0xffffffff })],
  ['0 channels', () => withHeader({ channels: 0, blockAlign: 0 })],
  ['9 channels', () => withHeader({ channels: 9, blockAlign: 18 })],
  ['65,535 channels', () => withHeader({ channels: 65_535 })],
  ['0 bits per sample', () => withHeader({ bits: 0 })],
  ['7 bits per sample', () => withHeader({ bits: 7 })],
  ['12 bits per sample', () => withHeader({ bits: 12 })],
  ['64 bits per sample', () => withHeader({ bits: 64, blockAlign: 8 })],
  ['16-bit float', () => withHeader({ tag: 3 })],
  ['a compressed format tag (ADPCM)', () => withHeader({ tag: 2 })],
  ['an odd block align (3 for 16-bit mono)', () => withHeader({ blockAlign: 3 })],
  ['block align 0', () => withHeader({ blockAlign: 0 })],
  ['a data chunk larger than the file', () => withHeader({ dataSize: 1_000_000 })],
  ['a data chunk of 1 byte (less than one frame)', () => withHeader({ dataSize: 1 }).slice(0, 45)],
  ['an fmt chunk shorter than 16 bytes', () => withHeader({ fmtSize: 8 })],
  ['an fmt chunk running past the end of the file', () => withHeader({ fmtSize: 0xfffffff0 })],
  ['data before fmt', () => {
    const bytes = good()
    const swapped = new Uint8Array(bytes.length)
    swapped.set(bytes.subarray(0, 12))
    swapped.set(bytes.subarray(36), 12)
    swapped.set(bytes.subarray(12, 36), 12 + bytes.length - 36)
    return swapped
  }],
  ['no data chunk', () => good().slice(0, 36)],
]

describe('a malformed WAV is a 400 naming the file, never a crash', () => {
  for (const [name, make] of cases) {
    test(name, async () => {
      const error = await refusal(make())
      expect([error.status, error.param]).toEqual([400, 'file'])
      expect(error.message).not.toMatch(/Out of bounds|2 \*\* 53|RangeError/)
    })
  }

  test('cut at every offset of its header (1..44 bytes), each is a 400', async () => {
    const bytes = good()
    for (let length = 1; length <= 44; length++) {
      const error = await refusal(bytes.slice(0, length))
      expect([length, error.status, error.param]).toEqual([length, 400, 'file'])
      expect(error.message).not.toMatch(/Out of bounds|2 \*\* 53|RangeError/)
    }
  })

  test('the header is checked before anything is allocated: a 1 kB file saying 200 MHz is refused at once', async () => {
    const bytes = withHeader({ rate: 200_000_000 })
    const started = performance.now()
    const error = await refusal(bytes)
    expect(error.message).toContain('200000000')
    expect(performance.now() - started).toBeLessThan(100)
  })

  test('what stays accepted: streamed sizes (0 and 0xFFFFFFFF) read to the end, a trailing partial frame is dropped', async () => {
    for (const dataSize of [0, 0xffffffff]) expect((await decodeAudio(withHeader({ dataSize }))).samples.length).toBe(1600)
    const extra = new Uint8Array(good().length + 1)
    extra.set(good())
    new DataView(extra.buffer).setUint32(40, 3201, true)
    expect((await decodeAudio(extra)).samples.length).toBe(1600)
  })

  test('samples that do not start on a multiple of their width (a 2-byte chunk before the data) decode the same', async () => {
    for (const format of ['s16', 's24', 's32', 'f32'] as const) {
      const plain = wav(tone(440, 16_000, 0.1), 16_000, 1, format)
      const shifted = new Uint8Array(plain.length + 10)
      shifted.set(plain.subarray(0, 36))
      shifted.set([0x4c, 0x49, 0x53, 0x54, 2, 0, 0, 0, 0, 0], 36)
      shifted.set(plain.subarray(36), 46)
      expect((await decodeAudio(shifted)).samples).toEqual((await decodeAudio(plain)).samples)
    }
  })
})
