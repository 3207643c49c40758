import type { loadOnnxSession } from '@cy/onnx'
import type { PhonemizedClause } from '../espeak/espeak-phonemizer.ts'
import type { VoiceEntry } from '../voices/voice-entry.ts'
import type { SpeakArgs } from './speak-args.ts'

export type Session = Awaited<ReturnType<typeof loadOnnxSession>>['session']

/** One model family on its session: a piece's phonemes in, float audio out. */
export interface Synthesizer {
  readonly kind: 'piper' | 'kokoro'
  readonly sampleRate: number
  readonly voices: VoiceEntry[]
  readonly session: Session
  /** One session run; `ids` is what was fed (Piper's phoneme ids, Kokoro's tokens with their pads). */
  synthesize(clauses: PhonemizedClause[], args: SpeakArgs): Promise<{ samples: Float32Array; ids: number[] }>
}

/** The graph's first output, flattened (Piper's exports give [1,1,1,S] or [1,1,S], Kokoro [S]), its tensors released. */
export async function runToSamples(session: Session, feeds: Parameters<Session['run']>[0]): Promise<Float32Array> {
  const results = await session.run(feeds)
  const output = results[session.outputNames[0]!]!
  const samples = new Float32Array(output.data as Float32Array)
  for (const tensor of Object.values(results)) tensor.dispose()
  return samples
}
