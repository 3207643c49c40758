/**
 * whisper conditions on at most n_text_ctx/2 - 1 prompt tokens (223 for every released model) and keeps
 * the last ones, as OpenAI documents for its 224; its tokenizer's cost grows with the square of the
 * text's length (a 1 MB prompt never finishes). So only the prompt's last PROMPT_TAIL_CHARS characters,
 * from a word boundary, reach it: far more than 223 tokens of any real text.
 */
export const PROMPT_TAIL_CHARS = 4096

export function promptTail(prompt: string | undefined): string | undefined {
  if (prompt === undefined || prompt.length <= PROMPT_TAIL_CHARS) return prompt
  const tail = prompt.slice(-PROMPT_TAIL_CHARS)
  const boundary = tail.search(/\s/)
  return boundary > 0 ? tail.slice(boundary) : tail
}
