import type { TokenAlternative, TokenLogprob } from '@cy/core'

const alternative = (entry: TokenAlternative) => ({ token: entry.token, logprob: entry.logprob, bytes: entry.bytes })

/** Chat's `choices[].logprobs`: `{ content: [{ token, logprob, bytes, top_logprobs }], refusal: null }`. */
export function chatLogprobs(entries: readonly TokenLogprob[]) {
  return { content: entries.map((entry) => ({ ...alternative(entry), top_logprobs: entry.top.map(alternative) })), refusal: null }
}

/**
 * Legacy completions' `choices[].logprobs`: parallel lists of the tokens, their logprobs, their top
 * alternatives (token → logprob) and where each starts in the choice's text (`offset`: the text before them).
 */
export function completionLogprobs(entries: readonly TokenLogprob[], offset: number) {
  const text_offset: number[] = []
  for (const entry of entries) {
    text_offset.push(offset)
    offset += entry.token.length
  }
  return {
    tokens: entries.map((entry) => entry.token),
    token_logprobs: entries.map((entry) => entry.logprob),
    top_logprobs: entries.map((entry) => Object.fromEntries(entry.top.map((top) => [top.token, top.logprob]))),
    text_offset,
  }
}
