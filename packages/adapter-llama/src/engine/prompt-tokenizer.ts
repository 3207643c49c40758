import type { Pointer } from 'bun:ffi'
import type { LlamaNative } from '../native/llama-native.ts'
import { yieldToEventLoop } from './yield-to-event-loop.ts'

/** Characters per slice of a long text: llama.cpp's tokenizers slow down with the square of a text's length. */
const SLICE = 8192

const isSpace = (char: string | undefined) => char !== undefined && /\s/.test(char)

/**
 * Where a vocabulary lets a text be cut so that the pieces tokenize as the whole does: `split` (BPE, and
 * SentencePiece without a space prefix) before a lone space or after a lone line end between other
 * characters, where the pre-tokenizer splits anyway; `drop-space` (SentencePiece that prefixes each text
 * with a space) at a lone space, which the next piece's own prefix puts back; `whole` never.
 */
type SliceMode = 'split' | 'drop-space' | 'whole'

/**
 * Prompt text to tokens as llama.cpp tokenizes it (special tokens parsed, BOS/EOS added as the vocabulary
 * says), with two differences. A text that already begins with BOS (a chat template writing
 * `bos_token`) keeps only one. A long text is tokenized in slices, yielding between them so the
 * scheduler's other sequences go on, and stopping when the request is cancelled.
 */
export class PromptTokenizer {
  readonly #mode: SliceMode
  readonly #bos: number
  readonly #addBos: boolean
  readonly #eos: number
  readonly #addEos: boolean

  constructor(
    readonly native: LlamaNative,
    model: Pointer,
    readonly vocab: Pointer,
  ) {
    const s = native.calls
    const kind = native.metaString(model, 'tokenizer.ggml.model')
    const spacePrefix = native.metaString(model, 'tokenizer.ggml.add_space_prefix') !== 'false'
    this.#mode = kind === 'gpt2' ? 'split' : kind === 'llama' ? (spacePrefix ? 'drop-space' : 'split') : 'whole'
    this.#bos = s.llama_vocab_bos(vocab)
    this.#addBos = s.llama_vocab_get_add_bos(vocab)
    this.#eos = s.llama_vocab_eos(vocab)
    this.#addEos = s.llama_vocab_get_add_eos(vocab)
  }

  /** The text's tokens; undefined when `aborted()` turned true between slices. */
  async tokenize(text: string, aborted: () => boolean): Promise<Int32Array | undefined> {
    if (text.length <= SLICE || this.#mode === 'whole') return this.#oneBos(this.native.tokenize(this.vocab, text, true, true))
    const parts: Int32Array[] = []
    if (this.#addBos) parts.push(Int32Array.of(this.#bos))
    for (let from = 0; from < text.length; ) {
      const { end, next } = this.#cut(text, from)
      parts.push(this.native.tokenize(this.vocab, text.slice(from, end), false, true))
      from = next
      if (from < text.length) {
        await yieldToEventLoop()
        if (aborted()) return undefined
      }
    }
    if (this.#addEos) parts.push(Int32Array.of(this.#eos))
    const tokens = new Int32Array(parts.reduce((sum, part) => sum + part.length, 0))
    let at = 0
    for (const part of parts) {
      tokens.set(part, at)
      at += part.length
    }
    return this.#oneBos(tokens)
  }

  #oneBos(tokens: Int32Array): Int32Array {
    return this.#addBos && tokens[0] === this.#bos && tokens[1] === this.#bos ? tokens.subarray(1) : tokens
  }

  /** The next slice from `from`: it ends at `end`; the one after starts at `next`. */
  #cut(text: string, from: number): { end: number; next: number } {
    const target = from + SLICE
    if (target >= text.length) return { end: text.length, next: text.length }
    for (let i = target; i > from + SLICE / 4; i--) {
      const cut = this.#cutAt(text, i)
      if (cut) return cut
    }
    for (let i = target + 1; i < text.length; i++) {
      const cut = this.#cutAt(text, i)
      if (cut) return cut
    }
    return { end: text.length, next: text.length }
  }

  #cutAt(text: string, i: number): { end: number; next: number } | undefined {
    const before = text[i - 1]
    const at = text[i]
    if (at === ' ' && !isSpace(before) && !isSpace(text[i + 1])) return this.#mode === 'drop-space' ? { end: i, next: i + 1 } : { end: i, next: i }
    if (this.#mode === 'split' && before === '\n' && i >= 2 && !isSpace(text[i - 2]) && !isSpace(at)) return { end: i, next: i }
    return undefined
  }
}
