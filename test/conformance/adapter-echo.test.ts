import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import createEchoAdapter from '../fixtures/adapter-echo/src/index.ts'
import type { EchoLoadedModel } from '../fixtures/adapter-echo/src/echo-model.ts'
import { runAdapterConformance } from './adapter-conformance.ts'

// The fixture adapter runs the suite too: it shows the suite passes for a correct adapter.
runAdapterConformance({
  name: 'echo (fixture)',
  createAdapter: () => createEchoAdapter(),
  extension: '.echo',
  capabilities: ['chat', 'completion', 'embedding'],
  async modelFile(dir) {
    const path = join(dir, 'tiny.echo')
    await writeFile(path, 'ECHO v1\nprefix: you said: \nstepMs: 5\ndimensions: 16\n')
    return path
  },
  // The fixture's own fault hook makes its Worker's next step fail.
  failNextStep: (loaded) => (loaded as EchoLoadedModel).failNextStep(),
  notApplicable: {
    'tool-bridge': 'the echo model declares native tool calls and never makes one',
    stop: 'the echo model has no stop strings',
    'json-mode': 'the echo model has no constrained decoding',
    'context-overflow': 'the echo model has no context limit',
    'token-input': 'the echo model takes text only',
  },
})
