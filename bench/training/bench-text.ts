import { seededRandom } from '../../test/fixtures/seeded-random.ts'

const WORDS = ['the', 'model', 'learns', 'a', 'small', 'story', 'about', 'quick', 'brown', 'foxes', 'and', 'lazy', 'dogs', 'that', 'run', 'over', 'green', 'hills', 'every', 'morning']

// The fixtures' vocabulary (tiny-llama.ts): BOS, then a byte token per byte, a space becoming "▁" (3 bytes).
const fixtureTokens = (text: string) => text.length + 2 * (text.split(' ').length - 1)

/**
 * Deterministic ASCII text that the fixtures' vocabulary makes exactly `tokens` tokens, BOS included, and
 * that ends without a newline (llama-finetune's `-f` drops a trailing one, which would shorten its data).
 */
export function benchText(tokens: number, seed = 1): string {
  const next = seededRandom(seed)
  let text = ''
  for (;;) {
    const word = `${WORDS[Math.floor(next() * WORDS.length)]}${next() < 0.1 ? '.\n' : ' '}`
    if (1 + fixtureTokens(text + word) + 1 > tokens) break
    text += word
  }
  return text + '.'.repeat(tokens - 1 - fixtureTokens(text))
}

/** llama-finetune's windows (common_opt_dataset_init): `context + 1` tokens every `stride`, as many as fit whole. */
export function finetuneWindows(tokens: Int32Array, context: number, stride: number): Int32Array[] {
  const count = Math.floor((tokens.length - context - 1) / stride)
  return Array.from({ length: count }, (_, i) => tokens.slice(i * stride, i * stride + context + 1))
}
