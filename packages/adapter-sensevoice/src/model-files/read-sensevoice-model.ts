import { readOnnxMetadata } from '@cy/onnx'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { readTokens } from '../decode/index.ts'
import { parseAmMvn } from './am-mvn.ts'
import type { SenseVoiceFiles } from './sensevoice-files.ts'
import { parseSenseVoiceMetadata, type SenseVoiceMetadata } from './sensevoice-metadata.ts'
import { SenseVoiceModelError } from './sensevoice-model-error.ts'
import { readSentencePieces } from './sentencepiece-model.ts'

/** What FunASR's export leaves out of the file: SenseVoice-Small's fixed prompt ids and frontend (SV model.py lid_dict, textnorm_dict; config.yaml). */
const FUNASR_SENSEVOICE = { blankId: 0, lfrWindowSize: 7, lfrWindowShift: 6, normalizeSamples: 0, withItn: 14, withoutItn: 15, languages: { auto: 0, zh: 3, en: 4, yue: 7, ja: 11, ko: 12 } }

/** The model's metadata, typed, and its vocabulary (pieces by id), from either packaging. */
export async function readSenseVoiceModel(files: SenseVoiceFiles): Promise<{ metadata: SenseVoiceMetadata; symbols: Array<string | undefined> }> {
  if (files.format !== 'funasr') {
    const metadata = parseSenseVoiceMetadata(await readOnnxMetadata(files.model), basename(files.model))
    return { metadata, symbols: readTokens(await readFile(files.tokens, 'utf8')) }
  }
  const symbols = readSentencePieces(new Uint8Array(await readFile(files.tokens)), files.tokens)
  const cmvn = parseAmMvn(await readFile(files.cmvn!, 'utf8'), files.cmvn!)
  const dims = FUNASR_SENSEVOICE.lfrWindowSize * 80
  if (cmvn.negMean.length !== dims || cmvn.invStddev.length !== dims) {
    throw new SenseVoiceModelError(`${files.cmvn}: ${cmvn.negMean.length} shifts and ${cmvn.invStddev.length} scales, not ${dims} each (80 mel bins × LFR 7)`)
  }
  return { metadata: { ...FUNASR_SENSEVOICE, vocabSize: symbols.length, ...cmvn }, symbols }
}
