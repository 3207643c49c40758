import { readOnnxMetadata } from '@cy/onnx'
import { existsSync, readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { isSenseVoiceMetadata, parseSenseVoiceMetadata } from './sensevoice-metadata.ts'
import { SenseVoiceModelError } from './sensevoice-model-error.ts'

/**
 * A SenseVoice model's files: sherpa-onnx's packaging (the ONNX file with its metadata, tokens.txt beside it),
 * or FunASR's own export (no metadata; the CMVN in am.mvn and the vocabulary in a sentencepiece model beside it).
 */
export interface SenseVoiceFiles {
  /** Default 'sherpa-onnx'. */
  format?: 'sherpa-onnx' | 'funasr'
  model: string
  /** tokens.txt, or (FunASR) the sentencepiece model. */
  tokens: string
  /** FunASR: am.mvn. */
  cmvn?: string
}

export type SenseVoiceClaim = ({ claim: true } & SenseVoiceFiles) | { claim: false; reason: string }

/** FunASR's export in `dir`: am.mvn and the sentencepiece model (`chn_jpn_yue_eng_ko_spectok.bpe.model`) beside it. */
function funAsrExport(model: string): SenseVoiceClaim | undefined {
  const dir = dirname(model)
  const cmvn = join(dir, 'am.mvn')
  if (!existsSync(cmvn)) return undefined
  const names = readdirSync(dir)
  const pieces = names.find((name) => name.endsWith('.bpe.model')) ?? names.find((name) => name.endsWith('.model'))
  if (!pieces) {
    return {
      claim: false,
      reason:
        `no SenseVoice metadata and am.mvn beside it, as FunASR exports SenseVoice, but its sentencepiece model (chn_jpn_yue_eng_ko_spectok.bpe.model) is missing` +
        `${names.includes('tokens.json') ? ' (tokens.json alone is not enough: it is another FunASR model, or copy the .bpe.model beside it)' : ''}; ` +
        "or use sherpa-onnx's packaging (model.onnx with its metadata, and tokens.txt)",
    }
  }
  return { claim: true, format: 'funasr', model, tokens: join(dir, pieces), cmvn }
}

/** Whether `path` is a SenseVoice model this adapter loads, read from the file's metadata (its header only). */
export async function claimSenseVoice(path: string): Promise<SenseVoiceClaim> {
  if (!path.endsWith('.onnx')) return { claim: false, reason: 'not an ONNX file (.onnx)' }
  let props: Record<string, string>
  try {
    props = await readOnnxMetadata(path)
  } catch (error) {
    return { claim: false, reason: `not a readable ONNX model: ${(error as Error).message}` }
  }
  if (!isSenseVoiceMetadata(props)) {
    if (Object.keys(props).length === 0) return funAsrExport(path) ?? { claim: false, reason: 'not a SenseVoice model (no metadata, and no FunASR am.mvn beside it)' }
    return { claim: false, reason: 'not a SenseVoice model (no sense_voice metadata)' }
  }
  const tokens = join(dirname(path), 'tokens.txt')
  if (!existsSync(tokens)) return { claim: false, reason: `a SenseVoice model, but tokens.txt is missing beside it (${tokens})` }
  try {
    parseSenseVoiceMetadata(props, basename(path))
  } catch (error) {
    return { claim: false, reason: (error as Error).message }
  }
  return { claim: true, format: 'sherpa-onnx', model: path, tokens }
}

/** The files of a model named in the config: what `claimSenseVoice` finds, or an error saying what is missing. */
export async function senseVoiceFiles(path: string): Promise<SenseVoiceFiles> {
  const claimed = await claimSenseVoice(path)
  if (!claimed.claim) throw new SenseVoiceModelError(`${path}: ${claimed.reason}`)
  const { claim: _, ...files } = claimed
  return files
}
