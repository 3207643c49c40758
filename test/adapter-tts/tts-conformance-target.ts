import createTtsAdapter from '@cy/adapter-tts'
import type { Isolation } from '@cy/core'
import { copyFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { ConformanceTarget } from '../conformance/adapter-conformance.ts'
import { tinyPiperFixture } from '../fixtures/tts/tts-fixtures.ts'

/** A paragraph of several sentences with clauses. */
export const SPEECH_PARAGRAPH =
  'The quick brown fox jumps over the lazy dog. Well, hello there, my friend: how are you today? ' +
  'I am fine, thanks; the weather is lovely, and the garden is in bloom. Shall we take a walk along the river before dinner?'

/** About 4000 characters (OpenAI's cap is 4096): dozens of model runs, a synthesis that lasts a while. */
export const LONG_SPEECH = Array.from({ length: 12 }, () => SPEECH_PARAGRAPH).join(' ').slice(0, 4000)

/** The real onnxruntime and espeak-ng on the tiny random-weight Piper voice the fixture writes, in the given isolation. */
export const ttsConformanceTarget = (isolation: Isolation): ConformanceTarget => ({
  name: `tts (${isolation})`,
  createAdapter: () => createTtsAdapter({ quiet: true }),
  extension: '.onnx',
  capabilities: ['tts'],
  // The voice and its .onnx.json, copied into the suite's folder as a models folder holds a Piper voice.
  modelFile: async (dir) => {
    const fixture = tinyPiperFixture({ speakers: 1, variant: 'random' })
    const model = join(dir, basename(fixture.model))
    await copyFile(fixture.config, `${model}.json`)
    await copyFile(fixture.model, model)
    return model
  },
  options: { threads: 1, isolation },
  // A one-speaker Piper voice's one voice is the voice itself, by its file's name. The long request: about 4000
  // characters at a quarter speed (four times the samples), dozens of model runs.
  speech: { voice: basename(tinyPiperFixture({ speakers: 1, variant: 'random' }).model, '.onnx'), input: SPEECH_PARAGRAPH, long: { input: LONG_SPEECH, speed: 0.25 } },
  notApplicable: {
    'engine-error-recovery':
      'onnxruntime runs in the model’s engine Worker (in its engine process, or in this one), out of this test’s reach; tts-engine.test.ts covers its failures',
  },
})
