import { BadRequestError } from '@cy/core'

/**
 * Bytes of text one token may stand for, generously (real vocabularies average under 5): a text longer
 * than this many bytes per token of context cannot fit, and is refused before it is tokenized, which
 * would take long for a huge text.
 */
export const MAX_BYTES_PER_TOKEN = 32

export function contextLengthExceeded(message: string, param: string): BadRequestError {
  return new BadRequestError(message, { param, code: 'context_length_exceeded' })
}

/** 400 naming `n`: a request's choices run side by side, one slot each, so there can be no more than slots. */
export function tooManyChoices(n: number, slots: number): BadRequestError {
  return new BadRequestError(`n is ${n}; this model generates at most ${slots} choices at once (its \`parallel\` option)`, { param: 'n' })
}

/** Refuses, by its UTF-8 length alone, a text that cannot fit in `contextSize` tokens. */
export function checkTextFits(text: string, contextSize: number, param: string): void {
  const limit = contextSize * MAX_BYTES_PER_TOKEN
  // A UTF-16 length past the limit is past it in bytes too: the common huge case costs nothing to count.
  const bytes = text.length > limit ? text.length : Buffer.byteLength(text)
  if (bytes > limit) {
    throw contextLengthExceeded(`\`${param}\` has ${text.length > limit ? 'over ' : ''}${bytes} bytes of text; this model's context holds ${contextSize} tokens`, param)
  }
}

/**
 * Refuses, before the template renders them, messages that cannot fit: more of them than tokens of
 * context, or more text than it holds by `checkTextFits`'s measure. Rendering a huge conversation takes long.
 */
export function checkMessagesFit(messages: Array<{ content: string; tool_calls?: unknown }>, contextSize: number): void {
  if (messages.length > contextSize) {
    throw contextLengthExceeded(`There are ${messages.length} messages; this model's context holds ${contextSize} tokens`, 'messages')
  }
  const limit = contextSize * MAX_BYTES_PER_TOKEN
  let length = 0
  for (const message of messages) {
    length += message.content.length
    // Earlier calls render into the prompt too (a template writes their arguments out).
    if (message.tool_calls) length += JSON.stringify(message.tool_calls).length
  }
  if (length > limit) throw contextLengthExceeded(`The messages have over ${limit} bytes of text; this model's context holds ${contextSize} tokens`, 'messages')
}
