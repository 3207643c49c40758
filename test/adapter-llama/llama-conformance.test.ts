import createLlamaAdapter from '@cy/adapter-llama'
import { join } from 'node:path'
import { runAdapterConformance } from '../conformance/adapter-conformance.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'

// The real llama.cpp on a tiny random-weight model the fixture writes.
runAdapterConformance({
  name: 'llama',
  createAdapter: () => createLlamaAdapter({ quiet: true }),
  extension: '.gguf',
  capabilities: ['chat', 'completion', 'embedding'],
  modelFile: (dir) => writeTinyLlama(join(dir, 'tiny.gguf')),
  options: { contextSize: 512, threads: 2, parallel: 4 },
})
