import createWhisperAdapter from '@cy/adapter-whisper'
import type { Isolation } from '@cy/core'
import { join } from 'node:path'
import { tone, wav } from '../audio/wav-fixtures.ts'
import type { ConformanceTarget } from '../conformance/adapter-conformance.ts'
import { writeTinyWhisper } from '../fixtures/whisper/tiny-whisper.ts'

/** The real whisper.cpp on a tiny random-weight model the fixture writes, in the given isolation. */
export const whisperConformanceTarget = (isolation: Isolation): ConformanceTarget => ({
  name: `whisper (${isolation})`,
  createAdapter: () => createWhisperAdapter({ quiet: true }),
  extension: '.bin',
  capabilities: ['asr'],
  modelFile: (dir) => writeTinyWhisper(join(dir, 'ggml-tiny.bin')),
  options: { threads: 2, parallel: 1, fallback: false, isolation },
  // 35 s: two 30-second windows, so a request lasts long enough to watch and to cancel.
  audio: () => wav(tone(330, 16_000, 35), 16_000, 1, 's16'),
  notApplicable: {
    'token-input': 'speech-to-text takes audio, not token ids',
    'engine-error-recovery':
      'whisper.cpp runs in the model’s Workers (in its engine process, or in this one), out of this test’s reach; whisper-engine.test.ts fails its native call instead',
  },
})
