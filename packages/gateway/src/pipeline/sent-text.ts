/**
 * What a stream has sent so far. A handler that streamed deltas may still end with the whole text as
 * final text: only the part not yet sent goes out then.
 */
export class SentText {
  #sent = ''

  /** The text to send for a chunk: a delta as is, a final text minus what was already sent. */
  next(chunk: { type: 'text-delta' | 'final-text'; text: string }): string {
    if (chunk.type === 'text-delta') {
      this.#sent += chunk.text
      return chunk.text
    }
    const rest = chunk.text.startsWith(this.#sent) ? chunk.text.slice(this.#sent.length) : chunk.text
    this.#sent = chunk.text
    return rest
  }
}
