import type { OutputChunk, WorkerSink } from '@cy/core'
import type { GenerateArgs } from '../../packages/adapter-llama/src/engine/generate-args.ts'
import type { LlamaNative } from '../../packages/adapter-llama/src/native/llama-native.ts'

/**
 * A test double for the engine Worker's output sink (the boundary to the main thread, which these tests
 * leave out): it records chunks, and reports the client gone once `leaveAfter` chunks of type `counted`
 * (text deltas unless told) were sent. `onPush` sees every chunk as it comes.
 */
export function recordingSink(
  leaveAfter = Infinity,
  counted: OutputChunk['type'] = 'text-delta',
  onPush: (chunk: OutputChunk) => void = () => {},
): WorkerSink & { chunks: OutputChunk[]; text(): string } {
  const chunks: OutputChunk[] = []
  const deltas = () => chunks.filter((c) => c.type === 'text-delta')
  return {
    chunks,
    text: () => deltas().map((c) => (c as { text: string }).text).join(''),
    signal: new AbortController().signal,
    get aborted() {
      return chunks.filter((c) => c.type === counted).length >= leaveAfter
    },
    abortFlag: new Int32Array(1),
    push: (chunk) => (chunks.push(chunk), onPush(chunk), true),
    ready: () => Promise.resolve(),
  }
}

/**
 * A test double for a client that stops reading after `credit` chunks (the sink refuses more, as a full
 * channel does) and later leaves: `stalled` resolves when the engine is told to wait, `leave()` ends it.
 */
export function stalledReader(credit: number): WorkerSink & { stalled: Promise<void>; leave(): void } {
  let sent = 0
  let left = false
  let resume: () => void = () => {}
  let onStalled: () => void = () => {}
  const stalled = new Promise<void>((resolve) => (onStalled = resolve))
  return {
    stalled,
    signal: new AbortController().signal,
    get aborted() {
      return left
    },
    abortFlag: new Int32Array(1),
    push: () => ++sent < credit,
    ready: () => {
      if (left) return Promise.resolve()
      onStalled()
      return new Promise<void>((resolve) => (resume = resolve))
    },
    leave: () => {
      left = true
      resume()
    },
  }
}

/** A promise that resolves once `sink` has recorded `count` chunks. */
export async function chunksArrived(sink: { chunks: OutputChunk[] }, count: number): Promise<void> {
  while (sink.chunks.length < count) await new Promise((resolve) => setImmediate(resolve))
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

/**
 * A test double at the native boundary: the next `llama_decode` of the generation context returns `code`
 * (llama.cpp's codes: 1 no room in the cache, 2 aborted, -1 invalid batch, < -1 fatal), then decoding
 * works again. Real llama.cpp does not fail on demand, so the failure is made here.
 */
export function failNextDecode(native: LlamaNative, context: unknown, code = -3): { failed(): boolean } {
  const real = native.decode.bind(native)
  let failed = false
  native.decode = (ctx, ...rest) => {
    if (failed || ctx !== context) return real(ctx, ...rest)
    failed = true
    return code
  }
  return { failed: () => failed }
}

/** Counts the sampler chains the engine holds (made and not yet freed), by watching the native calls that make and free them. */
export function samplerCount(native: LlamaNative): { live(): number; made(): number } {
  const chains = new Set<unknown>()
  let made = 0
  const make = native.samplerChain.bind(native)
  native.samplerChain = (parts) => {
    const chain = make(parts)
    chains.add(chain)
    made++
    return chain
  }
  const calls = native.calls as { llama_sampler_free: (sampler: unknown) => void }
  const free = calls.llama_sampler_free
  calls.llama_sampler_free = (sampler) => {
    chains.delete(sampler)
    free(sampler)
  }
  return { live: () => chains.size, made: () => made }
}
