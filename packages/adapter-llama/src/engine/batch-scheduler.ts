import { ProviderError, batchOutput } from '@cy/core'
import { contextLengthExceeded, tooManyChoices } from '../prompt-limits.ts'
import { toArrayBuffer, type Pointer } from 'bun:ffi'
import type { LlamaNative } from '../native/llama-native.ts'
import type { VisionProjector } from '../vision/vision-projector.ts'
import type { Sequence } from './sequence.ts'
import { LogitsRow } from './token-logprobs.ts'
import { yieldToEventLoop } from './yield-to-event-loop.ts'


/** The LoRA adapter a sequence runs under ('' none). */
const adapterOf = (sequence: Sequence): string => sequence.args.adapter ?? ''

/** How many leading tokens two token lists share. */
function commonPrefix(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const limit = Math.min(a.length, b.length)
  let i = 0
  while (i < limit && a[i] === b[i]) i++
  return i
}

/**
 * Continuous batching: every active sequence advances by one token per `llama_decode` (a prompt by as
 * many tokens as the batch has room for), new requests join between steps, and a finished or cancelled
 * sequence frees its slot at once. A freed slot keeps its cache: a new prompt that starts the same way
 * (a chat growing turn by turn, a shared system prompt) takes the slot with the longest common prefix
 * and evaluates only the rest.
 */
export class BatchScheduler {
  readonly #waiting: Sequence[] = []
  readonly #active: Sequence[] = []
  readonly #freeSlots: number[]
  /** What each slot's cache holds, token by token. */
  readonly #slotTokens: number[][]
  /** The LoRA adapter each slot's cache was computed with ('' none): a cache is reused only under the same one. */
  readonly #slotAdapter: string[]
  /** The adapter set on the context now. */
  #applied = ''
  readonly #memory: Pointer
  readonly #tokens: Int32Array
  readonly #positions: Int32Array
  readonly #sequences: Int32Array
  readonly #logits: Int8Array
  readonly #vocabSize: number
  #running: Promise<void> | undefined
  /** Resolves the wait of a loop with nothing to compute: new work, a client catching up, or close. */
  #wake: (() => void) | undefined
  #closed = false
  /** Entries laid out by the last `#fillBatch`. */
  #batchSize = 0

  constructor(
    readonly native: LlamaNative,
    readonly context: Pointer,
    readonly vocab: Pointer,
    readonly slots: number,
    readonly batchSize: number,
    readonly contextSize: number,
    /** Puts prompts' images into the cache, for a model with a projector. */
    readonly projector?: VisionProjector,
    /** A loaded LoRA adapter by name, for a model with an adapters folder. */
    readonly lora?: (name: string) => Pointer,
  ) {
    this.#freeSlots = Array.from({ length: slots }, (_, i) => slots - 1 - i)
    this.#slotTokens = Array.from({ length: slots }, () => [])
    this.#slotAdapter = Array.from({ length: slots }, () => '')
    this.#memory = native.calls.llama_get_memory(context)!
    this.#tokens = new Int32Array(batchSize)
    this.#positions = new Int32Array(batchSize)
    this.#sequences = new Int32Array(batchSize)
    this.#logits = new Int8Array(batchSize)
    this.#vocabSize = native.calls.llama_vocab_n_tokens(vocab)
  }

  get active(): number {
    return this.#active.length
  }

  /** Stops taking work, ends what is queued or running with `reason`, and resolves once no step is in flight. */
  async close(reason: unknown): Promise<void> {
    this.#closed = true
    this.#wake?.()
    const all = [...this.#active, ...this.#waiting.flatMap((sequence) => sequence.all)]
    for (const sequence of all) sequence.fail(reason)
    await this.#running
    for (const sequence of all) sequence.freeSampler(this.#free)
    this.#active.length = 0
    this.#waiting.length = 0
  }

  submit(sequence: Sequence): void {
    if (this.#closed) {
      sequence.fail(new ProviderError('The model is being unloaded'))
      return
    }
    if (sequence.prompt.length >= this.contextSize) {
      sequence.fail(contextLengthExceeded(`The prompt is ${sequence.prompt.length} tokens; this model's context holds ${this.contextSize}`, sequence.args.promptParam ?? 'prompt'))
      return
    }
    // The choices of a request run side by side, one slot each (queueing some would serialize them).
    if (sequence.all.length > this.slots) {
      this.#freeSamplers(sequence)
      sequence.fail(tooManyChoices(sequence.all.length, this.slots))
      return
    }
    this.#waiting.push(sequence)
    this.#wake?.()
    this.#running ??= this.#run().finally(() => (this.#running = undefined))
  }

  async #run(): Promise<void> {
    try {
      while (!this.#closed && (this.#waiting.length > 0 || this.#active.length > 0)) {
        // The tokens this step gives every sequence go to the main thread as one message.
        const stepped = batchOutput(() => {
          // Cancelled sequences first: the slots they free go to waiting requests in this same step.
          this.#dropCancelled()
          this.#admit()
          const sampled = this.#fillBatch()
          if (this.#batchSize > 0) this.#step(sampled)
          // Images come after the text before them is in the cache: their embeddings attend to it.
          const imaged = this.#evalImages()
          return this.#batchSize > 0 || imaged
        })
        // Nothing to compute while every active sequence waits for its client: sleep until something changes
        // (a submit, a close, a client that catches up or leaves), unless a waiting request can be admitted now.
        await (stepped || this.#admissible() ? yieldToEventLoop() : this.#idle())
      }
    } catch (error) {
      // A failure outside a decode: every request ends with it, and the slots come back empty and free.
      for (const sequence of this.#active) {
        sequence.fed.length = 0
        sequence.fail(error)
      }
      this.#release()
      for (const sequence of this.#waiting) for (const choice of sequence.all) choice.fail(error)
      this.#waiting.length = 0
    }
  }

  /** Resolves on the next submit or close, or once a paused sequence's client has caught up (or left). */
  #idle(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        if (this.#wake === wake) this.#wake = undefined
        resolve()
      }
      this.#wake = wake
      // Registered after each sequence's own unpausing callback on the same sink, so it runs after it.
      for (const sequence of this.#active) if (sequence.paused) void sequence.out.ready().then(wake)
    })
  }

  /** Whether the first waiting request has a slot for each of its choices. */
  #admissible(): boolean {
    return this.#waiting.length > 0 && this.#freeSlots.length >= this.#waiting[0]!.all.length
  }

  #admit(): void {
    // In arrival order: a request with several choices waits until it has a slot for each.
    while (this.#admissible()) {
      const sequence = this.#waiting.shift()!
      if (sequence.out.aborted) {
        for (const choice of sequence.all) choice.finish('cancelled')
        this.#freeSamplers(sequence)
        continue
      }
      // Samplers are made only now, so the queue holds none.
      try {
        for (const choice of sequence.all) choice.prepare()
      } catch (error) {
        this.#freeSamplers(sequence)
        for (const choice of sequence.all) choice.fail(error)
        continue
      }
      this.#place(sequence)
      this.#active.push(sequence)
      for (const follower of sequence.followers) this.#placeFollower(follower)
    }
  }

  readonly #free = (sampler: Pointer) => this.native.calls.llama_sampler_free(sampler)

  #freeSamplers(sequence: Sequence): void {
    for (const choice of sequence.all) choice.freeSampler(this.#free)
  }

  /** Another choice of a request: a slot of its own, empty until the first choice's prompt is decoded and copied in. */
  #placeFollower(follower: Sequence): void {
    const slot = this.#freeSlots.pop()!
    this.native.calls.llama_memory_seq_rm(this.#memory, slot, -1, -1)
    this.#slotAdapter[slot] = adapterOf(follower)
    follower.slot = slot
    // Not prefilling and nothing pending: the batch skips it until `#fork`.
    follower.consumed = follower.prompt.length
    follower.waitsForPrompt = true
    this.#active.push(follower)
  }

  /**
   * The first choice's prompt is decoded: each other choice gets a copy of its cache (a copy across
   * llama.cpp's per-sequence streams takes whole streams: -1, -1) and samples its first token from the
   * same output row, with its own sampler.
   */
  #fork(leader: Sequence, row: number, rows: Map<number, LogitsRow>): void {
    for (const follower of leader.followers) {
      if (!follower.waitsForPrompt) continue
      follower.waitsForPrompt = false
      if (follower.done) continue
      this.native.calls.llama_memory_seq_cp(this.#memory, leader.slot, follower.slot, -1, -1)
      follower.fed.push(...leader.fed)
      follower.position = leader.position
      this.#sample(follower, row, rows)
    }
  }

  /** Samples and accepts the sequence's next token from an output row (penalties and grammars advance in the same call). */
  #sample(sequence: Sequence, row: number, rows: Map<number, LogitsRow>): void {
    const s = this.native.calls
    const top = sequence.args.logprobs
    let logits: LogitsRow | undefined
    if (top !== undefined) {
      logits = rows.get(row)
      // A view of llama.cpp's row, read before the next decode overwrites it.
      if (!logits) rows.set(row, (logits = new LogitsRow(new Float32Array(toArrayBuffer(s.llama_get_logits_ith(this.context, row)!, 0, this.#vocabSize * 4)))))
    }
    const token = s.llama_sampler_sample(sequence.sampler, this.context, row)
    const bytes = this.native.tokenBytes(this.vocab, token, false)
    const logprob = logits?.entry(token, top!, (id) => (id === token ? bytes : this.native.tokenBytes(this.vocab, id, false)))
    sequence.accept(token, bytes, s.llama_vocab_is_eog(this.vocab, token), logprob)
  }

  /** Gives the sequence the free slot whose cache shares the longest prefix with its prompt, and reuses that prefix. */
  #place(sequence: Sequence): void {
    let best = this.#freeSlots.length - 1
    let bestShared = -1
    const adapter = adapterOf(sequence)
    for (let i = this.#freeSlots.length - 1; i >= 0; i--) {
      const slotIndex = this.#freeSlots[i]!
      // A cache computed under another adapter holds other keys and values: nothing of it is reused.
      const shared = this.#slotAdapter[slotIndex] === adapter ? commonPrefix(this.#slotTokens[slotIndex]!, sequence.prompt) : 0
      if (shared > bestShared) {
        best = i
        bestShared = shared
      }
    }
    const slot = this.#freeSlots.splice(best, 1)[0]!
    this.#slotAdapter[slot] = adapter
    // At least the prompt's last token is decoded again: its output row gives the first sampled token.
    // An image is reused whole or not at all.
    let reused = Math.min(bestShared, sequence.prompt.length - 1)
    if (sequence.media) reused = sequence.media.reusable(reused)
    const position = sequence.media ? sequence.media.positionOf(reused) : reused
    this.native.calls.llama_memory_seq_rm(this.#memory, slot, position, -1)
    sequence.slot = slot
    sequence.consumed = reused
    sequence.cached = reused
    sequence.group.cached = reused
    sequence.position = position
    for (let i = 0; i < reused; i++) sequence.fed.push(sequence.prompt[i]!)
  }

  #dropCancelled(): void {
    for (const sequence of this.#active) if (!sequence.done && sequence.out.aborted) sequence.finish('cancelled')
    this.#release()
  }

  /** Frees the cache and slot of every finished sequence. */
  #release(): void {
    for (let i = this.#active.length - 1; i >= 0; i--) {
      const sequence = this.#active[i]!
      // Choices still waiting for a prompt that will never be decoded end with the first choice.
      if (sequence.done) for (const follower of sequence.followers) if (follower.waitsForPrompt) follower.finish('cancelled')
      if (!sequence.done) continue
      // The cache stays for the next request with the same beginning (unless a failed decode left it unknown).
      if (sequence.fed.length === 0) this.native.calls.llama_memory_seq_rm(this.#memory, sequence.slot, -1, -1)
      this.#slotTokens[sequence.slot] = sequence.fed
      sequence.freeSampler(this.#free)
      this.#freeSlots.push(sequence.slot)
      this.#active.splice(i, 1)
    }
  }

  /**
   * The adapter this step runs under. llama.cpp applies adapters per context, so one decode serves one
   * adapter set: with several among the sequences that have work, steps take them in turn (each group
   * advances every k-th step for k groups; one group, or none, changes nothing).
   */
  #stepAdapter(): string {
    // A model without adapters runs every step as it is.
    if (!this.lora) return ''
    const waiting = new Set<string>()
    for (const sequence of this.#active) {
      if (sequence.done || sequence.paused || sequence.waitsForPrompt) continue
      if (sequence.prefilling || sequence.pending !== undefined) waiting.add(adapterOf(sequence))
    }
    if (waiting.size === 0 || (waiting.size === 1 && waiting.has(this.#applied))) return this.#applied
    const sorted = [...waiting].sort()
    return sorted.find((adapter) => adapter > this.#applied) ?? sorted[0]!
  }

  /**
   * Takes `adapter` off the context before it is freed, if it is what the context runs under (a freed
   * adapter must not stay set). The slots whose caches it computed keep its name: no other adapter (nor
   * none) reuses them.
   */
  detach(adapter: string): void {
    if (adapter !== this.#applied) return
    this.native.setLoras(this.context, [])
    this.#applied = ''
  }

  /** Sets `adapter` on the context, if it is not what it runs under now. */
  #apply(adapter: string): void {
    if (adapter === this.#applied) return
    const code = this.native.setLoras(this.context, adapter ? [{ adapter: this.lora!(adapter), scale: 1 }] : [])
    if (code !== 0) throw new ProviderError(`llama.cpp could not set the LoRA adapter '${adapter}' (${code})`)
    this.#applied = adapter
  }

  /** Lays out this step's batch; returns, per sequence that wants a token sampled, its output row. */
  #fillBatch(): Array<{ sequence: Sequence; row: number }> {
    const adapter = this.#stepAdapter()
    this.#apply(adapter)
    let count = 0
    const sampled: Array<{ sequence: Sequence; row: number }> = []
    const add = (sequence: Sequence, token: number, wantsOutput: boolean) => {
      this.#tokens[count] = token
      this.#positions[count] = sequence.position++
      this.#sequences[count] = sequence.slot
      this.#logits[count] = wantsOutput ? 1 : 0
      sequence.fed.push(token)
      if (wantsOutput) sampled.push({ sequence, row: count })
      count++
    }
    // Generating sequences first (one token each), so a long prompt never stalls them.
    for (const sequence of this.#active) {
      if (count >= this.batchSize) break
      if (sequence.done || sequence.paused || sequence.prefilling || sequence.pending === undefined || adapterOf(sequence) !== adapter) continue
      if (sequence.position >= this.contextSize) {
        sequence.finish('length')
        continue
      }
      const token = sequence.pending
      sequence.pending = undefined
      add(sequence, token, true)
    }
    for (const sequence of this.#active) {
      if (sequence.done || !sequence.prefilling || adapterOf(sequence) !== adapter) continue
      while (sequence.prefilling && count < this.batchSize) {
        // An image next: `#evalImages` puts it in after this batch.
        if (sequence.media?.images.has(sequence.consumed)) break
        const token = sequence.prompt[sequence.consumed++]!
        add(sequence, token, !sequence.prefilling)
      }
    }
    this.#batchSize = count
    return sampled
  }

  /**
   * Each sequence whose prompt has an image next gets its embeddings put in its cache (libmtmd encodes
   * the image, then decodes the embeddings: a llama_decode of its own). Returns whether any was.
   */
  #evalImages(): boolean {
    if (!this.projector) return false
    let any = false
    for (const sequence of this.#active) {
      if (sequence.done || sequence.out.aborted || !sequence.media) continue
      const image = sequence.media.images.get(sequence.consumed)
      if (!image) continue
      any = true
      try {
        // The image's embeddings go through the layers under the sequence's own adapter.
        this.#apply(adapterOf(sequence))
        sequence.position = this.projector.evalImage(this.context, image.chunk, sequence.position, sequence.slot, this.batchSize)
      } catch (error) {
        // What the failed decode left in its cache is unknown: `#release` clears it.
        sequence.fed.length = 0
        sequence.fail(error)
        continue
      }
      for (let i = 0; i < image.nTokens; i++) sequence.fed.push(sequence.prompt[image.start + i]!)
      sequence.consumed += image.nTokens
    }
    if (any) this.#release()
    return any
  }

  #step(sampled: Array<{ sequence: Sequence; row: number }>): void {
    const code = this.native.decode(this.context, this.#tokens, this.#positions, this.#sequences, this.#logits, this.#batchSize)
    if (code !== 0) {
      // Only the sequences in this batch end; what it left in their slots' caches is unknown, so
      // `#release` clears those, frees their samplers and returns the slots, and the others go on.
      const inBatch = new Set(this.#sequences.subarray(0, this.#batchSize))
      const error = new ProviderError(`llama_decode failed (${code})`)
      for (const sequence of this.#active) {
        if (!inBatch.has(sequence.slot)) continue
        sequence.fed.length = 0
        // 1: no room left in the cache: they end as if they hit their length.
        if (code === 1) sequence.finish('length')
        else sequence.fail(error)
      }
      this.#release()
      return
    }
    const rows = new Map<number, LogitsRow>()
    for (const { sequence, row } of sampled) {
      if (sequence.done) continue
      if (sequence.followers.length > 0) this.#fork(sequence, row, rows)
      this.#sample(sequence, row, rows)
    }
    this.#release()
  }
}
