import { OutputChunk, type TokenLogprob, type WorkerSink } from '@cy/core'
import type { Pointer } from 'bun:ffi'
import type { MediaPrompt } from '../vision/media-prompt.ts'
import type { GenerateArgs, GenerateResult } from './generate-args.ts'
import { StopMatcher } from './stop-matcher.ts'

/** What the choices of one request (`n`) share: the prompt's usage, reported once when the last one ends. */
export class ChoiceGroup {
  remaining: number
  completionTokens = 0
  /** Prompt tokens the first choice found in its slot's cache. */
  cached = 0

  constructor(readonly size: number) {
    this.remaining = size
  }
}

/**
 * One choice of a request being generated: its prompt, its place in the batch, and what it has said so
 * far. The first choice (index 0) carries the others as `followers`: it decodes the prompt alone, and
 * they start from a copy of its cache.
 */
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
  /** Another choice of a request whose prompt the first choice is still decoding (see `BatchScheduler`). */
  waitsForPrompt = false
  done = false
  readonly #decoder = new TextDecoder('utf-8')
  readonly #stop: StopMatcher
  readonly #finished: Promise<GenerateResult>
  #resolve!: (result: GenerateResult) => void
  #reject!: (error: unknown) => void

  /** The request's other choices (on the first choice only). */
  readonly followers: Sequence[] = []

  constructor(
    readonly prompt: Int32Array,
    readonly args: GenerateArgs,
    readonly out: WorkerSink,
    /** Makes its sampler chain, when it gets a slot: a queued request holds no native memory. */
    readonly makeSampler: () => Pointer,
    /** The choice this sequence generates (`choices[].index`). */
    readonly index = 0,
    readonly group = new ChoiceGroup(1),
    /** The images of its prompt (whose entries for them are image keys, not tokens). */
    readonly media?: MediaPrompt,
  ) {
    this.#stop = new StopMatcher(args.stop)
    this.#finished = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  /**
   * A request's `n` choices: the first carries the others. Choice i samples with `seed + i`, so seeded
   * choices differ from each other and are the same on every run.
   */
  static choices(prompt: Int32Array, args: GenerateArgs, out: WorkerSink, sampler: (args: GenerateArgs) => Pointer, media?: MediaPrompt): Sequence {
    const n = Math.max(1, args.n ?? 1)
    const group = new ChoiceGroup(n)
    const leader = new Sequence(prompt, args, out, () => sampler(args), 0, group, media)
    for (let i = 1; i < n; i++) {
      const choiceArgs = args.seed === undefined ? args : { ...args, seed: (args.seed + i) >>> 0 }
      leader.followers.push(new Sequence(prompt, choiceArgs, out, () => sampler(choiceArgs), i, group, media))
    }
    return leader
  }

  get finished(): Promise<GenerateResult> {
    return this.#finished
  }

  #sampler: Pointer | undefined

  /** Its sampler chain, made by `prepare`. */
  get sampler(): Pointer {
    return this.#sampler!
  }

  /** Makes its sampler (throws a 400 for a grammar llama.cpp does not accept). */
  prepare(): void {
    this.#sampler ??= this.makeSampler()
  }

  /** Frees its sampler if it has one; safe to call again. */
  freeSampler(free: (sampler: Pointer) => void): void {
    if (this.#sampler) free(this.#sampler)
    this.#sampler = undefined
  }

  /** Settles once every choice has: the completion tokens summed, the first choice's reason. */
  get settled(): Promise<GenerateResult> {
    if (this.followers.length === 0) return this.#finished
    return Promise.all(this.all.map((sequence) => sequence.finished)).then((results) => ({
      promptTokens: this.prompt.length,
      completionTokens: results.reduce((sum, result) => sum + result.completionTokens, 0),
      finishReason: results[0]!.finishReason,
    }))
  }

  get prefilling(): boolean {
    return this.consumed < this.prompt.length
  }

  /** Every choice of the request, this one first; settles when all of them have. */
  get all(): Sequence[] {
    return [this, ...this.followers]
  }

  /** Takes a sampled token (with its logprobs when asked for); returns true when the sequence is done. */
  accept(token: number, bytes: Uint8Array, endOfGeneration: boolean, logprob?: TokenLogprob): boolean {
    if (endOfGeneration) return this.finish('stop')
    this.generated++
    if (logprob) this.out.push(OutputChunk.logprobs([logprob], this.index))
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
      // The choices share one prompt: it is counted once, their completions summed (as OpenAI does).
      const group = this.group
      group.completionTokens += this.generated
      if (--group.remaining === 0) this.out.push(OutputChunk.usage(this.prompt.length, group.completionTokens, group.cached))
      this.out.push(OutputChunk.finish(reason, this.index))
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
    if (!this.out.push(OutputChunk.textDelta(text, this.index))) {
      this.paused = true
      void this.out.ready().then(() => {
        this.paused = false
      })
    }
  }
}
