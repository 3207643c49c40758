import { withReference } from '../../test/fixtures/llama/reference-llama.ts'

/**
 * llama.cpp called directly, the plain way: one sequence, one token per llama_decode, greedy.
 * Returns the decode rate (tokens/s after the prompt), the baseline the adapter is measured against.
 */
export function referenceDecodeRate(libDir: string, modelPath: string, prompt: string, tokens: number, threads: number): number {
  return withReference(libDir, modelPath, { contextSize: 1024, sequences: 1, threads }, ({ native, context, greedy, prefill }) => {
    const sampler = greedy()
    const first = prefill(prompt, sampler)
    let token = first.token
    const one = new Int32Array(1)
    const position = new Int32Array(1)
    const sequence = new Int32Array(1)
    const output = Int8Array.of(1)
    const started = performance.now()
    for (let i = 0; i < tokens; i++) {
      one[0] = token
      position[0] = first.length + i
      native.decode(context, one, position, sequence, output, 1)
      token = native.calls.llama_sampler_sample(sampler, context, 0)
    }
    return tokens / ((performance.now() - started) / 1000)
  })
}

/**
 * llama.cpp called directly with `streams` sequences decoded together, one token each per llama_decode:
 * the ceiling continuous batching can reach on this machine. Returns aggregate tokens/s after the prompts.
 */
export function referenceBatchedRate(libDir: string, modelPath: string, streams: number, tokens: number, threads: number): number {
  return withReference(libDir, modelPath, { contextSize: 1024 * streams, sequences: streams, threads }, ({ native, context, greedy, prefill }) => {
    const samplers = Array.from({ length: streams }, () => greedy())
    const next = new Int32Array(streams)
    const positions = new Int32Array(streams)
    samplers.forEach((sampler, i) => {
      const first = prefill(`stream ${i}: hello`, sampler, i)
      next[i] = first.token
      positions[i] = first.length
    })
    const sequences = Int32Array.from({ length: streams }, (_, i) => i)
    const outputs = new Int8Array(streams).fill(1)
    const started = performance.now()
    for (let step = 0; step < tokens; step++) {
      native.decode(context, next, positions, sequences, outputs, streams)
      for (let i = 0; i < streams; i++) {
        positions[i]!++
        next[i] = native.calls.llama_sampler_sample(samplers[i]!, context, i)
      }
    }
    return (streams * tokens) / ((performance.now() - started) / 1000)
  })
}
