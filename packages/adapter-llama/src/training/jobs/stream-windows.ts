import { TrainingInputError } from '../training-input-error.ts'

/** A token stream cut into windows of `contextSize + 1` tokens, every `contextSize` (the last token of one starts the next). */
export function streamWindows(stream: Int32Array, contextSize: number): Int32Array[] {
  const windows: Int32Array[] = []
  for (let start = 0; start + contextSize + 1 <= stream.length; start += contextSize) windows.push(stream.slice(start, start + contextSize + 1))
  if (!windows.length) throw new TrainingInputError(`the dataset has ${stream.length} tokens; training needs at least maxSeqLength + 1 = ${contextSize + 1}`)
  return windows
}
