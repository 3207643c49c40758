import { readFile } from 'node:fs/promises'
import { TtsModelError } from './tts-model-error.ts'

/**
 * Kokoro's phoneme vocabulary (symbol → id) from sherpa-onnx's `tokens.txt` (`<symbol> <id>` a line; the
 * symbol may be a space) or kokoro's `config.json` (`vocab`).
 */
export async function readKokoroVocab(path: string): Promise<Record<string, number>> {
  const text = await readFile(path, 'utf8')
  if (path.endsWith('.json')) {
    const vocab = (JSON.parse(text) as { vocab?: unknown }).vocab
    if (typeof vocab !== 'object' || vocab === null || !Object.values(vocab).every(Number.isInteger)) throw new TtsModelError(`${path}: no vocab (symbol → id)`)
    return vocab as Record<string, number>
  }
  const vocab: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const match = /^(.+) (\d+)\r?$/su.exec(line)
    if (match) vocab[match[1]!] = Number(match[2])
  }
  if (Object.keys(vocab).length === 0) throw new TtsModelError(`${path}: no '<symbol> <id>' lines`)
  return vocab
}
