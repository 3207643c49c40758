import { LlamaNative } from '../../packages/adapter-llama/src/native/llama-native.ts'

/**
 * llama.cpp called directly, the plain way: one sequence, one token per llama_decode, greedy.
 * Returns the decode rate (tokens/s after the prompt) — the baseline the adapter is measured against.
 */
export function referenceDecodeRate(libDir: string, modelPath: string, prompt: string, tokens: number, threads: number): number {
  const native = new LlamaNative(libDir)
  const model = native.loadModel(modelPath, 0)!
  const context = native.newContext(model, { contextSize: 1024, batchSize: 512, sequences: 1, threads, embeddings: false, pooling: 'model', flashAttention: 'auto' })!
  const vocab = native.vocab(model)
  const s = native.calls
  const sampler = native.samplerChain([s.llama_sampler_init_greedy()])
  try {
    const ids = native.tokenize(vocab, prompt, true, true)
    const logits = new Int8Array(ids.length)
    logits[ids.length - 1] = 1
    native.decode(context, ids, Int32Array.from(ids, (_, i) => i), new Int32Array(ids.length), logits, ids.length)
    let token = s.llama_sampler_sample(sampler, context, ids.length - 1)
    const token1 = new Int32Array(1)
    const position = new Int32Array(1)
    const sequence = new Int32Array(1)
    const output = Int8Array.of(1)
    const started = performance.now()
    for (let i = 0; i < tokens; i++) {
      token1[0] = token
      position[0] = ids.length + i
      native.decode(context, token1, position, sequence, output, 1)
      token = s.llama_sampler_sample(sampler, context, 0)
    }
    return tokens / ((performance.now() - started) / 1000)
  } finally {
    s.llama_sampler_free(sampler)
    s.llama_free(context)
    s.llama_model_free(model)
  }
}
