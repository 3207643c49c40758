import createSenseVoiceAdapter from '@cy/adapter-sensevoice'
import type { Isolation } from '@cy/core'
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { wav } from '../audio/wav-fixtures.ts'
import type { ConformanceTarget } from '../conformance/adapter-conformance.ts'
import { tinySenseVoiceFixture } from '../fixtures/sensevoice/sensevoice-fixtures.ts'
import { tonesAndPauses } from './sensevoice-test-audio.ts'

/** The real onnxruntime on the tiny random-weight SenseVoice model the fixture writes, in the given isolation. */
export const senseVoiceConformanceTarget = (isolation: Isolation): ConformanceTarget => ({
  name: `sensevoice (${isolation})`,
  createAdapter: () => createSenseVoiceAdapter({ quiet: true }),
  extension: '.onnx',
  capabilities: ['asr'],
  // The model and its tokens.txt, copied into the suite's folder as a models folder holds them.
  modelFile: async (dir) => {
    const fixture = tinySenseVoiceFixture({ variant: 'random' })
    await copyFile(fixture.tokens, join(dir, 'tokens.txt'))
    await copyFile(fixture.model, join(dir, 'model.onnx'))
    return join(dir, 'model.onnx')
  },
  options: { threads: 1, isolation },
  // Several segments, so a request lasts long enough to watch and to cancel.
  audio: () => wav(tonesAndPauses(), 16_000, 1, 's16'),
  notApplicable: {
    'token-input': 'speech-to-text takes audio, not token ids',
    'engine-error-recovery':
      'onnxruntime runs in the model’s engine Worker (in its engine process, or in this one), out of this test’s reach; sensevoice-engine.test.ts covers its failures',
  },
})
