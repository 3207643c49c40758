import { readOnnxHeader, type OnnxHeader } from '@cy/onnx'
import { existsSync, readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { parsePiperConfig } from './piper-config.ts'
import { TtsModelError } from './tts-model-error.ts'

/** A Piper voice (`<name>.onnx` + `<name>.onnx.json`) or a Kokoro model (its `.onnx` + a voices file, and its vocabulary where given). */
export type TtsFiles = { kind: 'piper'; model: string; config: string } | { kind: 'kokoro'; model: string; voices: string; vocab?: string }

export type TtsClaim = ({ claim: true } & TtsFiles) | { claim: false; reason: string }

/** The names a Kokoro voices file goes by: sherpa-onnx's `voices.bin`, kokoro-onnx's `voices-v1.0.bin`, any `.npz`. */
const VOICES_FILE = /^voices.*\.(bin|npz)$|\.npz$/

/** Kokoro's graph inputs: its tokens (`tokens` or `input_ids`), a style vector and the speed. */
export function isKokoroGraph(header: Pick<OnnxHeader, 'inputs'>): boolean {
  const inputs = new Set(header.inputs)
  return (inputs.has('tokens') || inputs.has('input_ids')) && inputs.has('style') && inputs.has('speed')
}

function kokoroFiles(model: string): TtsClaim {
  const dir = dirname(model)
  const names = readdirSync(dir).sort()
  const voices = names.find((name) => VOICES_FILE.test(name))
  if (!voices) return { claim: false, reason: `a Kokoro graph, but no voices file (voices.bin, voices-v1.0.bin or a .npz) beside it in ${dir}` }
  const vocab = ['tokens.txt', 'config.json'].find((name) => names.includes(name))
  return { claim: true, kind: 'kokoro', model, voices: join(dir, voices), ...(vocab ? { vocab: join(dir, vocab) } : {}) }
}

/** Whether `path` is a Piper voice or Kokoro model, from the files beside it and the graph's input names (the header only). */
export async function claimTts(path: string): Promise<TtsClaim> {
  if (!path.endsWith('.onnx')) return { claim: false, reason: 'not an ONNX file (.onnx)' }
  const config = `${path}.json`
  if (existsSync(config)) {
    try {
      parsePiperConfig(await readFile(config, 'utf8'), config)
    } catch (error) {
      return { claim: false, reason: (error as Error).message }
    }
    return { claim: true, kind: 'piper', model: path, config }
  }
  let header: OnnxHeader
  try {
    header = await readOnnxHeader(path)
  } catch (error) {
    return { claim: false, reason: `not a readable ONNX model: ${(error as Error).message}` }
  }
  if (!isKokoroGraph(header)) return { claim: false, reason: `not a Piper voice (no ${config}) nor a Kokoro model (inputs ${header.inputs.join(', ')}, not tokens, style, speed)` }
  return kokoroFiles(path)
}

/** The files of a model named in the config: what `claimTts` finds, or an error saying what is missing. */
export async function ttsFiles(path: string): Promise<TtsFiles> {
  const claimed = await claimTts(path)
  if (!claimed.claim) throw new TtsModelError(`${path}: ${claimed.reason}`)
  const { claim: _, ...files } = claimed
  return files
}
