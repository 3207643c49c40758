import createLlamaAdapter from '@cy/adapter-llama'
import type { Isolation } from '@cy/core'
import { join } from 'node:path'
import type { ConformanceTarget } from '../conformance/adapter-conformance.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'

/** The real llama.cpp on a tiny random-weight model the fixture writes, in the given isolation. */
export const llamaConformanceTarget = (isolation: Isolation): ConformanceTarget => ({
  name: `llama (${isolation})`,
  createAdapter: () => createLlamaAdapter({ quiet: true }),
  extension: '.gguf',
  capabilities: ['chat', 'completion', 'embedding'],
  modelFile: (dir) => writeTinyLlama(join(dir, 'tiny.gguf')),
  // Room for the bridge's tool instructions (about 860 tokens) and an answer.
  options: { contextSize: 1024, threads: 1, parallel: 4, isolation },
  // llama.cpp server's `grammar` extension: the random-weight model writes exactly what it is given.
  forceOutput: (text) => ({ grammar: `root ::= ${JSON.stringify(text)}` }),
  // BOS, then the byte tokens of "hello" (each byte b is token b + 5 in the fixture's vocabulary).
  tokenIds: [1, ...Array.from(new TextEncoder().encode('hello'), (byte) => byte + 5)],
  notApplicable: {
    'engine-error-recovery':
      'llama.cpp runs in the model’s engine process or Worker, out of a test double’s reach here: the engine test fails llama_decode at the native boundary (test/adapter-llama/llama-engine.test.ts, “a failed llama_decode…”)',
  },
})
