/** One emitted CTC token: its id and the output frame it was emitted at. */
export interface CtcHit {
  id: number
  frame: number
}

/**
 * Greedy CTC over logits [frames × vocab] row-major: the argmax of each frame (the first on ties, like
 * std::max_element), then blanks and repeats dropped; a token repeated across a blank is emitted twice
 * (sherpa-onnx offline-ctc-greedy-search-decoder.cc). `banned` ids never win (SenseVoice's ban_emo_unk bans 25009).
 */
export function ctcGreedy(logits: Float32Array, frames: number, vocab: number, blankId: number, banned?: Iterable<number>): CtcHit[] {
  if (logits.length < frames * vocab) throw new RangeError(`logits hold ${logits.length} values, not ${frames} × ${vocab}`)
  const skip = new Uint8Array(vocab)
  for (const id of banned ?? []) if (id >= 0 && id < vocab) skip[id] = 1
  const hits: CtcHit[] = []
  let previous = -1
  for (let t = 0; t < frames; t++) {
    const row = t * vocab
    let best = -1
    let bestValue = -Infinity
    for (let v = 0; v < vocab; v++) {
      const value = logits[row + v]!
      if (skip[v] === 0 && (best === -1 || value > bestValue)) {
        best = v
        bestValue = value
      }
    }
    if (best !== blankId && best !== previous) hits.push({ id: best, frame: t })
    previous = best
  }
  return hits
}
