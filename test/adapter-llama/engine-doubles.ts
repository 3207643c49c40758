import type { OutputChunk, WorkerSink } from '@cy/core'
import type { GenerateArgs } from '../../packages/adapter-llama/src/engine/generate-args.ts'

/**
 * A test double for the engine Worker's output sink (the boundary to the main thread, which these tests
 * leave out): it records chunks, and reports the client gone once `leaveAfter` text deltas were sent.
 */
export function recordingSink(leaveAfter = Infinity): WorkerSink & { chunks: OutputChunk[]; text(): string } {
  const chunks: OutputChunk[] = []
  const deltas = () => chunks.filter((c) => c.type === 'text-delta')
  return {
    chunks,
    text: () => deltas().map((c) => (c as { text: string }).text).join(''),
    signal: new AbortController().signal,
    get aborted() {
      return deltas().length >= leaveAfter
    },
    abortFlag: new Int32Array(1),
    push: (chunk) => (chunks.push(chunk), true),
    ready: () => Promise.resolve(),
  }
}

/** Greedy generation arguments, with any field overridden. */
export function greedyArgs(over: Partial<GenerateArgs> = {}): GenerateArgs {
  return {
    prompt: '',
    maxTokens: undefined,
    temperature: 0,
    topP: undefined,
    topK: undefined,
    minP: undefined,
    repeatPenalty: undefined,
    presencePenalty: undefined,
    frequencyPenalty: undefined,
    seed: undefined,
    stop: [],
    logitBias: undefined,
    grammar: undefined,
    ...over,
  }
}
