import type { TokenAlternative, TokenLogprob } from '@cy/core'

/** The most top-alternatives a request may ask for (OpenAI's limit for chat). */
export const MAX_TOP_LOGPROBS = 20

const decoder = new TextDecoder('utf-8')

/**
 * A row of raw logits as log-probabilities, computed once per row (the choices of one request share the
 * row their first token is sampled from). Log-softmax of the logits before any sampling transform, as
 * llama-server's `n_probs` without `post_sampling_probs`.
 */
export class LogitsRow {
  readonly #logits: Float32Array
  readonly #logSum: number
  #ranked: number[] | undefined

  constructor(logits: Float32Array) {
    this.#logits = logits
    let max = -Infinity
    for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!
    let sum = 0
    for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max)
    this.#logSum = max + Math.log(sum)
  }

  logprob(token: number): number {
    return this.#logits[token]! - this.#logSum
  }

  /** The `count` most likely tokens, best first (a partial selection: the vocabulary may be 150 k tokens). */
  top(count: number): number[] {
    if (this.#ranked && this.#ranked.length >= count) return this.#ranked.slice(0, count)
    const logits = this.#logits
    const ranked: number[] = []
    for (let token = 0; token < logits.length; token++) {
      const value = logits[token]!
      if (ranked.length === count && value <= logits[ranked[count - 1]!]!) continue
      let at = ranked.length === count ? count - 1 : ranked.length
      while (at > 0 && logits[ranked[at - 1]!]! < value) {
        ranked[at] = ranked[at - 1]!
        at--
      }
      ranked[at] = token
    }
    this.#ranked = ranked
    return ranked
  }

  /** The sampled token's entry, with `count` alternatives; `bytes` gives a token's text. */
  entry(token: number, count: number, bytes: (token: number) => Uint8Array): TokenLogprob {
    const alternative = (id: number): TokenAlternative => {
      const raw = bytes(id)
      return { token: decoder.decode(raw), logprob: this.logprob(id), bytes: Array.from(raw) }
    }
    return { ...alternative(token), top: this.top(count).map(alternative) }
  }
}
