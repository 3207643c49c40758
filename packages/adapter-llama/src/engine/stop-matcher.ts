/**
 * Finds stop strings in generated text as it streams, across token boundaries. Text that could still be
 * the start of a stop string is held back until it is known not to be, so a stop string is never emitted.
 */
export class StopMatcher {
  #held = ''

  constructor(readonly stops: readonly string[]) {}

  /** Feeds new text; returns what may be sent now, and whether a stop string ended the output. */
  push(text: string): { emit: string; stopped: boolean } {
    if (this.stops.length === 0) return { emit: text, stopped: false }
    const buffer = this.#held + text
    let cut = -1
    for (const stop of this.stops) {
      const at = buffer.indexOf(stop)
      if (at >= 0 && (cut < 0 || at < cut)) cut = at
    }
    if (cut >= 0) {
      this.#held = ''
      return { emit: buffer.slice(0, cut), stopped: true }
    }
    const keep = this.#longestPartialSuffix(buffer)
    this.#held = buffer.slice(buffer.length - keep)
    return { emit: buffer.slice(0, buffer.length - keep), stopped: false }
  }

  /** What is still held back, for when the output ends for another reason. */
  flush(): string {
    const held = this.#held
    this.#held = ''
    return held
  }

  #longestPartialSuffix(buffer: string): number {
    let longest = 0
    for (const stop of this.stops) {
      for (let length = Math.min(stop.length - 1, buffer.length); length > longest; length--) {
        if (buffer.endsWith(stop.slice(0, length))) {
          longest = length
          break
        }
      }
    }
    return longest
  }
}
