import type { SupportedParameters } from '@cy/core'

const SAMPLING = ['temperature', 'top_p', 'max_tokens', 'stop', 'seed', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'top_k', 'min_p', 'repeat_penalty', 'n', 'adapter']

/**
 * The optional request fields llama.cpp models honour. Left out, so refused with 400: chat's `audio`,
 * `modalities`, `prediction`, `reasoning_effort`, `web_search_options`, `functions`/`function_call`
 * (tools cover them), and completions' `suffix` (no fill-in-the-middle through this API).
 */
export const LLAMA_SUPPORTS: SupportedParameters = {
  chat: [...SAMPLING, 'response_format', 'logprobs', 'top_logprobs'],
  completion: [...SAMPLING, 'logprobs'],
  embedding: ['dimensions'],
}
