import { readFile } from 'node:fs/promises'
import { readNpz } from './numpy-file.ts'
import { TtsModelError } from './tts-model-error.ts'

/** Kokoro v1.0's style tables: one 256-float style per token count 0..509. */
export const KOKORO_STYLE_ROWS = 510
export const KOKORO_STYLE_DIM = 256

/** One Kokoro voice: its style table, `rows × dim` floats. */
export interface KokoroVoice {
  name: string
  styles: Float32Array
}

const isZip = (bytes: Uint8Array) => bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04

/**
 * The voices of a Kokoro model: kokoro-onnx's numpy zip (`voices-v1.0.bin`, `.npz`: one (510,1,256) array per
 * voice, by name), or sherpa-onnx's raw `voices.bin` (float32 [n,510,256] in speaker-id order, named by the
 * model's `speaker_names` metadata).
 */
export async function readKokoroVoices(path: string, metadata: Record<string, string>): Promise<KokoroVoice[]> {
  const bytes = new Uint8Array(await readFile(path))
  const perVoice = KOKORO_STYLE_ROWS * KOKORO_STYLE_DIM
  if (isZip(bytes)) {
    const voices: KokoroVoice[] = []
    for (const [name, array] of readNpz(bytes, path)) {
      if (array.data.length !== perVoice || array.shape.at(-1) !== KOKORO_STYLE_DIM) {
        throw new TtsModelError(`${path}: voice '${name}' has shape (${array.shape.join(', ')}), not (510, 1, 256)`)
      }
      voices.push({ name, styles: array.data })
    }
    if (voices.length === 0) throw new TtsModelError(`${path}: no voices in the .npz`)
    return voices
  }
  if (bytes.length === 0 || bytes.length % (perVoice * 4) !== 0) {
    throw new TtsModelError(`${path}: ${bytes.length} bytes is not a whole number of 510×256 float32 style tables (raw voices.bin) nor a numpy .npz`)
  }
  const count = bytes.length / (perVoice * 4)
  const names = (metadata.speaker_names ?? '').split(',').map((name) => name.trim()).filter(Boolean)
  if (names.length !== count) throw new TtsModelError(`${path}: ${count} voices but the model's speaker_names metadata names ${names.length}`)
  const all = new Float32Array(count * perVoice)
  new Uint8Array(all.buffer).set(bytes)
  return names.map((name, i) => ({ name, styles: all.subarray(i * perVoice, (i + 1) * perVoice) }))
}
