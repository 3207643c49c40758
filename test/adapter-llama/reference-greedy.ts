import { LlamaNative } from '../../packages/adapter-llama/src/native/llama-native.ts'

/**
 * llama.cpp's own greedy loop, written plainly: one sequence, one token per llama_decode, its greedy
 * sampler. The reference the adapter's output (batched, streamed, through HTTP) must equal.
 */
export function referenceGreedy(libDir: string, modelPath: string, prompt: string, maxTokens: number): string {
  const native = new LlamaNative(libDir)
  const model = native.loadModel(modelPath, 0)!
  const context = native.newContext(model, { contextSize: 512, batchSize: 512, sequences: 1, threads: 2, embeddings: false, pooling: 'model', flashAttention: 'auto' })!
  const vocab = native.vocab(model)
  const s = native.calls
  const sampler = native.samplerChain([s.llama_sampler_init_greedy()])
  try {
    const tokens = native.tokenize(vocab, prompt, true, true)
    const logits = new Int8Array(tokens.length)
    logits[tokens.length - 1] = 1
    if (native.decode(context, tokens, Int32Array.from(tokens, (_, i) => i), new Int32Array(tokens.length), logits, tokens.length) !== 0) throw new Error('decode failed')
    const bytes: number[] = []
    let position = tokens.length
    let row = tokens.length - 1
    for (let i = 0; i < maxTokens; i++) {
      const token = s.llama_sampler_sample(sampler, context, row)
      if (s.llama_vocab_is_eog(vocab, token)) break
      bytes.push(...native.tokenBytes(vocab, token, false))
      if (native.decode(context, Int32Array.of(token), Int32Array.of(position++), Int32Array.of(0), Int8Array.of(1), 1) !== 0) throw new Error('decode failed')
      row = 0
    }
    return new TextDecoder().decode(new Uint8Array(bytes))
  } finally {
    s.llama_sampler_free(sampler)
    s.llama_free(context)
    s.llama_model_free(model)
  }
}
