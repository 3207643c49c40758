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

/**
 * llama.cpp called directly with `streams` sequences decoded together, one token each per llama_decode:
 * the ceiling continuous batching can reach on this machine. Returns aggregate tokens/s after the prompts.
 */
export function referenceBatchedRate(libDir: string, modelPath: string, streams: number, tokens: number, threads: number): number {
  const native = new LlamaNative(libDir)
  const model = native.loadModel(modelPath, 0)!
  const context = native.newContext(model, { contextSize: 1024 * streams, batchSize: 512, sequences: streams, threads, embeddings: false, pooling: 'model', flashAttention: 'auto' })!
  const vocab = native.vocab(model)
  const s = native.calls
  const samplers = Array.from({ length: streams }, () => native.samplerChain([s.llama_sampler_init_greedy()]))
  try {
    const next = new Int32Array(streams)
    const positions = new Int32Array(streams)
    for (let i = 0; i < streams; i++) {
      const ids = native.tokenize(vocab, `stream ${i}: hello`, true, true)
      const logits = new Int8Array(ids.length)
      logits[ids.length - 1] = 1
      native.decode(context, ids, Int32Array.from(ids, (_, p) => p), new Int32Array(ids.length).fill(i), logits, ids.length)
      next[i] = s.llama_sampler_sample(samplers[i]!, context, ids.length - 1)
      positions[i] = ids.length
    }
    const sequences = Int32Array.from({ length: streams }, (_, i) => i)
    const outputs = new Int8Array(streams).fill(1)
    const started = performance.now()
    for (let step = 0; step < tokens; step++) {
      native.decode(context, next, positions, sequences, outputs, streams)
      for (let i = 0; i < streams; i++) {
        positions[i]!++
        next[i] = s.llama_sampler_sample(samplers[i]!, context, i)
      }
    }
    return (streams * tokens) / ((performance.now() - started) / 1000)
  } finally {
    for (const sampler of samplers) s.llama_sampler_free(sampler)
    s.llama_free(context)
    s.llama_model_free(model)
  }
}
