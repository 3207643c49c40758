import { resolveWhisperLibrary } from '@cy/adapter-whisper'
import { CancelledError, ProviderError, type OutputChunk } from '@cy/core'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TranscribeArgs } from '../../packages/adapter-whisper/src/engine/transcribe-args.ts'
import { WhisperEngine } from '../../packages/adapter-whisper/src/engine/whisper-engine.ts'
import { tone } from '../audio/wav-fixtures.ts'
import { writeTinyWhisper } from '../fixtures/whisper/tiny-whisper.ts'
import { recordingWorkerSink as sink } from '../support/recording-worker-sink.ts'

let dir: string
let engine: WhisperEngine
// 65 seconds: three 30-second windows, each decoded in turn.
const long = tone(300, 16_000, 65)
const args: TranscribeArgs = {
  samples: long,
  translate: false,
  language: 'en',
  prompt: undefined,
  temperature: 0,
  fallback: false,
  beamSize: 1,
  wordTimestamps: false,
  stream: true,
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-whisper-engine-'))
  const modelPath = await writeTinyWhisper(join(dir, 'ggml-tiny.bin'))
  const library = await resolveWhisperLibrary(undefined)
  engine = new WhisperEngine({ ...library, modelPath, parallel: 1, threads: 2, useGpu: false, flashAttention: true })
}, 900_000)
afterAll(async () => {
  engine?.dispose()
  await rm(dir, { recursive: true, force: true })
})

const segments = (out: { chunks: OutputChunk[] }) => out.chunks.filter((c) => c.type === 'transcript-segment').length

describe('the whisper engine', () => {
  test('segments come out one by one as windows are decoded, then the language and duration', () => {
    const out = sink()
    engine.transcribe(args, out)
    expect(segments(out)).toBeGreaterThanOrEqual(3)
    expect(out.chunks.at(-1)).toEqual({ type: 'transcript-info', language: 'en', duration: 65 })
  })

  test('a client that leaves stops the decode: no window after the one it left in is decoded', () => {
    const full = sink()
    engine.transcribe(args, full)
    const leaving = sink(1)
    expect(() => engine.transcribe(args, leaving)).toThrow(CancelledError)
    expect(segments(leaving)).toBeLessThan(segments(full))
    expect(segments(leaving)).toBe(1)
  })

  test('a failed whisper_full fails its request with a 502, never a partial 200, and the engine decodes the next one', () => {
    const short = { ...args, samples: tone(300, 16_000, 5), stream: false }
    const native = engine.native
    const real = native.transcribe.bind(native)
    // A test double at the native boundary: whisper_full returns its "failed to decode" code once.
    native.transcribe = () => -8
    try {
      expect(() => engine.transcribe(short, sink())).toThrow(ProviderError)
    } finally {
      native.transcribe = real
    }
    const out = sink()
    engine.transcribe(short, out)
    expect(out.chunks.at(-1)?.type).toBe('transcript-info')
  })
})
