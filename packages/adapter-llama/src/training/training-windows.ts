/**
 * A token stream cut into windows of `window + 1` tokens, each starting `window` after the last (so
 * consecutive windows share one token and every next-token pair is in exactly one window: TrainingRun
 * trains on a window's first `window` tokens with the window shifted by one as labels).
 *
 * The tokens left after the last full window are not dropped or padded: their window is completed from
 * the stream's start, as the next epoch would read it. Padding would teach the model to predict the pad
 * (llama.cpp's loss cannot skip tokens), and dropping would lose a short dataset entirely.
 */
export function packWindows(stream: Int32Array, window: number): Int32Array[] {
  const windows: Int32Array[] = []
  let start = 0
  for (; start + window + 1 <= stream.length; start += window) windows.push(stream.slice(start, start + window + 1))
  // Any pair left untrained (the stream's last token has no successor in it)?
  if (start < stream.length - 1 || windows.length === 0) {
    const tail = new Int32Array(window + 1)
    for (let i = 0; i <= window; i++) tail[i] = stream[(start + i) % stream.length]!
    windows.push(tail)
  }
  return windows
}
