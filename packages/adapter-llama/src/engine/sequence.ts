import { OutputChunk, type WorkerSink } from '@cy/core'
import type { Pointer } from 'bun:ffi'
import type { GenerateArgs, GenerateResult } from './generate-args.ts'
import { StopMatcher } from './stop-matcher.ts'

/** One request being generated: its prompt, its place in the batch, and what it has said so far. */
export class Sequence {
  /** The llama.cpp sequence id it occupies while active; -1 while waiting. */
  slot = -1
  /** Prompt tokens already decoded (or found in the slot's cache). */
  consumed = 0
  /** Prompt tokens that were already in the slot's cache from an earlier request. */
  cached = 0
  /** Every token fed to llama_decode for this sequence, in order: what its cache holds. */
  readonly fed: number[] = []
  /** The next position in its sequence. */
  position = 0
  /** A sampled token not yet decoded (it is fed in the next batch). */
  pending: number | undefined
  generated = 0
  /** Paused while its client is behind (back-pressure): it skips batches until it can send again. */
  paused = false
  done = false
  readonly #decoder = new TextDecoder('utf-8')
  readonly #stop: StopMatcher
  readonly #finished: Promise<GenerateResult>
  #resolve!: (result: GenerateResult) => void
  #reject!: (error: unknown) => void

  constructor(
    readonly prompt: Int32Array,
    readonly args: GenerateArgs,
    readonly out: WorkerSink,
    readonly sampler: Pointer,
  ) {
    this.#stop = new StopMatcher(args.stop)
    this.#finished = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  get finished(): Promise<GenerateResult> {
    return this.#finished
  }

  get prefilling(): boolean {
    return this.consumed < this.prompt.length
  }

  /** Takes a sampled token; returns true when the sequence is done. */
  accept(token: number, bytes: Uint8Array, endOfGeneration: boolean): boolean {
    if (endOfGeneration) return this.finish('stop')
    this.generated++
    // The streaming decoder keeps an incomplete UTF-8 character until its last byte arrives.
    const { emit, stopped } = this.#stop.push(this.#decoder.decode(bytes, { stream: true }))
    this.#send(emit)
    if (stopped) return this.finish('stop', false)
    if (this.args.maxTokens !== undefined && this.generated >= this.args.maxTokens) return this.finish('length')
    this.pending = token
    return false
  }

  /** Ends the sequence: flushes held text (unless a stop string cut it), reports usage and the reason. */
  finish(reason: GenerateResult['finishReason'], flush = true): boolean {
    if (this.done) return true
    this.done = true
    if (flush && reason !== 'cancelled') this.#send(this.#stop.push(this.#decoder.decode()).emit + this.#stop.flush())
    if (reason !== 'cancelled') {
      this.out.push(OutputChunk.usage(this.prompt.length, this.generated, this.cached))
      this.out.push(OutputChunk.finish(reason))
    }
    this.#resolve({ promptTokens: this.prompt.length, completionTokens: this.generated, finishReason: reason })
    return true
  }

  fail(error: unknown): void {
    if (this.done) return
    this.done = true
    this.#reject(error)
  }

  #send(text: string): void {
    if (!text) return
    if (!this.out.push(OutputChunk.textDelta(text))) {
      this.paused = true
      void this.out.ready().then(() => {
        this.paused = false
      })
    }
  }
}
