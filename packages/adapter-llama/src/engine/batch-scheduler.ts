import { BadRequestError, ProviderError } from '@cy/core'
import type { Pointer } from 'bun:ffi'
import type { LlamaNative } from '../native/llama-native.ts'
import type { Sequence } from './sequence.ts'

/** Lets the Worker read its messages (new requests, cancellations, credit) between decode steps. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

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
  readonly #memory: Pointer
  readonly #tokens: Int32Array
  readonly #positions: Int32Array
  readonly #sequences: Int32Array
  readonly #logits: Int8Array
  #running: Promise<void> | undefined
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
  ) {
    this.#freeSlots = Array.from({ length: slots }, (_, i) => slots - 1 - i)
    this.#slotTokens = Array.from({ length: slots }, () => [])
    this.#memory = native.calls.llama_get_memory(context)!
    this.#tokens = new Int32Array(batchSize)
    this.#positions = new Int32Array(batchSize)
    this.#sequences = new Int32Array(batchSize)
    this.#logits = new Int8Array(batchSize)
  }

  get active(): number {
    return this.#active.length
  }

  /** Stops taking work, ends what is queued or running with `reason`, and resolves once no step is in flight. */
  async close(reason: unknown): Promise<void> {
    this.#closed = true
    const all = [...this.#active, ...this.#waiting]
    for (const sequence of all) sequence.fail(reason)
    await this.#running
    for (const sequence of all) this.native.calls.llama_sampler_free(sequence.sampler)
    this.#active.length = 0
    this.#waiting.length = 0
  }

  submit(sequence: Sequence): void {
    if (this.#closed) {
      sequence.fail(new ProviderError('The model is being unloaded'))
      return
    }
    if (sequence.prompt.length >= this.contextSize) {
      sequence.fail(
        new BadRequestError(`The prompt is ${sequence.prompt.length} tokens; this model's context holds ${this.contextSize}`, {
          param: 'messages',
          code: 'context_length_exceeded',
        }),
      )
      return
    }
    this.#waiting.push(sequence)
    this.#running ??= this.#run().finally(() => (this.#running = undefined))
  }

  async #run(): Promise<void> {
    try {
      while (!this.#closed && (this.#waiting.length > 0 || this.#active.length > 0)) {
        this.#admit()
        this.#dropCancelled()
        const sampled = this.#fillBatch()
        if (this.#batchSize > 0) {
          this.#step(sampled)
          await yieldToEventLoop()
        } else {
          // Every active sequence waits for its client: nothing to compute until one catches up.
          await Bun.sleep(1)
        }
      }
    } catch (error) {
      for (const sequence of [...this.#active, ...this.#waiting]) sequence.fail(error)
      this.#active.length = 0
      this.#waiting.length = 0
    }
  }

  #admit(): void {
    while (this.#freeSlots.length > 0 && this.#waiting.length > 0) {
      const sequence = this.#waiting.shift()!
      if (sequence.out.aborted) {
        sequence.finish('cancelled')
        this.native.calls.llama_sampler_free(sequence.sampler)
        continue
      }
      this.#place(sequence)
      this.#active.push(sequence)
    }
  }

  /** Gives the sequence the free slot whose cache shares the longest prefix with its prompt, and reuses that prefix. */
  #place(sequence: Sequence): void {
    let best = this.#freeSlots.length - 1
    let bestShared = -1
    for (let i = this.#freeSlots.length - 1; i >= 0; i--) {
      const shared = commonPrefix(this.#slotTokens[this.#freeSlots[i]!]!, sequence.prompt)
      if (shared > bestShared) {
        best = i
        bestShared = shared
      }
    }
    const slot = this.#freeSlots.splice(best, 1)[0]!
    // At least the prompt's last token is decoded again: its output row gives the first sampled token.
    const reused = Math.min(bestShared, sequence.prompt.length - 1)
    this.native.calls.llama_memory_seq_rm(this.#memory, slot, reused, -1)
    sequence.slot = slot
    sequence.consumed = reused
    sequence.cached = reused
    sequence.position = reused
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
      if (!sequence.done) continue
      // The cache stays for the next request with the same beginning (unless a failed decode left it unknown).
      if (sequence.fed.length === 0) this.native.calls.llama_memory_seq_rm(this.#memory, sequence.slot, -1, -1)
      this.#slotTokens[sequence.slot] = sequence.fed
      this.native.calls.llama_sampler_free(sequence.sampler)
      this.#freeSlots.push(sequence.slot)
      this.#active.splice(i, 1)
    }
  }

  /** Lays out this step's batch; returns, per sequence that wants a token sampled, its output row. */
  #fillBatch(): Array<{ sequence: Sequence; row: number }> {
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
      if (sequence.done || sequence.paused || sequence.prefilling || sequence.pending === undefined) continue
      if (sequence.position >= this.contextSize) {
        sequence.finish('length')
        continue
      }
      const token = sequence.pending
      sequence.pending = undefined
      add(sequence, token, true)
    }
    for (const sequence of this.#active) {
      if (sequence.done || !sequence.prefilling) continue
      while (sequence.prefilling && count < this.batchSize) {
        const token = sequence.prompt[sequence.consumed++]!
        add(sequence, token, !sequence.prefilling)
      }
    }
    this.#batchSize = count
    return sampled
  }

  #step(sampled: Array<{ sequence: Sequence; row: number }>): void {
    const s = this.native.calls
    const code = this.native.decode(this.context, this.#tokens, this.#positions, this.#sequences, this.#logits, this.#batchSize)
    if (code !== 0) {
      // What this batch left in the cache is unknown: forget the slots' contents.
      for (const sequence of this.#active) if (this.#sequences.subarray(0, this.#batchSize).includes(sequence.slot)) sequence.fed.length = 0
      // 1: no room left in the cache; the sequences in this batch end as if they hit their length.
      if (code === 1) for (const { sequence } of sampled) sequence.finish('length')
      else throw new ProviderError(`llama_decode failed (${code})`)
      this.#release()
      return
    }
    for (const { sequence, row } of sampled) {
      if (sequence.done) continue
      // Samples and accepts (penalties and grammars advance) in one call.
      const token = s.llama_sampler_sample(sequence.sampler, this.context, row)
      sequence.accept(token, this.native.tokenBytes(this.vocab, token, false), s.llama_vocab_is_eog(this.vocab, token))
    }
    this.#release()
  }
}
