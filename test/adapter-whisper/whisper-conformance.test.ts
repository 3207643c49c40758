import createWhisperAdapter from '@cy/adapter-whisper'
import { join } from 'node:path'
import { tone, wav } from '../audio/wav-fixtures.ts'
import { runAdapterConformance } from '../conformance/adapter-conformance.ts'
import { writeTinyWhisper } from '../fixtures/whisper/tiny-whisper.ts'

// The real whisper.cpp on a tiny random-weight model the fixture writes.
runAdapterConformance({
  name: 'whisper',
  createAdapter: () => createWhisperAdapter({ quiet: true }),
  extension: '.bin',
  capabilities: ['asr'],
  modelFile: (dir) => writeTinyWhisper(join(dir, 'ggml-tiny.bin')),
  options: { threads: 2, parallel: 1, fallback: false },
  // 35 s: two 30-second windows, so a request lasts long enough to watch and to cancel.
  audio: () => wav(tone(330, 16_000, 35), 16_000, 1, 's16'),
  notApplicable: {
    'token-input': 'speech-to-text takes audio, not token ids',
    'engine-error-recovery': 'whisper.cpp runs in the model’s Workers, out of this test’s reach; whisper-engine.test.ts fails its native call instead',
  },
})
