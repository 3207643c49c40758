import type { SpeechPiece } from '../text/split-text.ts'

/** Past this many characters pieces stay apart (the splitter's hard-split length). */
const MAX_RUN_CHARS = 400

/**
 * The model runs for the splitter's pieces: the first piece alone, so the first audio comes after one clause;
 * after it, the clauses of each sentence together (one run a sentence, as Piper and sherpa-onnx synthesize,
 * so a sentence keeps its prosody), unless that would pass the hard-split length.
 */
export function speechRuns(pieces: readonly SpeechPiece[], maxChars = MAX_RUN_CHARS): SpeechPiece[] {
  const runs: SpeechPiece[] = []
  let open: SpeechPiece | undefined
  for (const [i, piece] of pieces.entries()) {
    if (open && open.text.length + 1 + piece.text.length <= maxChars) {
      open.text += ` ${piece.text}`
      open.endsSentence = piece.endsSentence
    } else {
      if (open) runs.push(open)
      open = { ...piece }
    }
    if (i === 0 || open.endsSentence) {
      runs.push(open)
      open = undefined
    }
  }
  if (open) runs.push(open)
  return runs
}
