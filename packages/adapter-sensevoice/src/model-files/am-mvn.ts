import { SenseVoiceModelError } from './sensevoice-model-error.ts'

/**
 * FunASR's CMVN file (am.mvn, Kaldi nnet text): the line after `<AddShift>` holds the negated means and the line
 * after `<Rescale>` the inverse standard deviations, each as `<LearnRateCoef> 0 [ v1 v2 … ]` (as sherpa-onnx's
 * scripts/sense-voice/export-onnx.py load_cmvn reads it).
 */
export function parseAmMvn(text: string, file: string): { negMean: Float32Array; invStddev: Float32Array } {
  const lines = text.split('\n').map((line) => line.trim())
  const after = (tag: string): Float32Array => {
    const at = lines.findIndex((line) => line.startsWith(tag))
    const values = at < 0 ? undefined : /\[([^\]]*)\]/.exec(lines[at + 1] ?? '')?.[1]
    if (values === undefined) throw new SenseVoiceModelError(`${file}: no ${tag} line followed by [ values ] (not a FunASR am.mvn)`)
    const numbers = Float32Array.from(values.trim().split(/\s+/).map(Number))
    if (numbers.some((v) => !Number.isFinite(v))) throw new SenseVoiceModelError(`${file}: the values after ${tag} are not numbers`)
    return numbers
  }
  return { negMean: after('<AddShift>'), invStddev: after('<Rescale>') }
}
