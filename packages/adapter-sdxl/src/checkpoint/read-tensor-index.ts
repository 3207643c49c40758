import { type TensorIndex, readGguf, withFile } from '@cy/native'
import { readCkpt, readLegacyTorch } from './read-ckpt.ts'
import { readSafetensors } from './read-safetensors.ts'

/**
 * The tensor names and shapes of a model file, from its header alone: GGUF by its magic, a torch zip (.ckpt)
 * by its zip signature, a legacy torch file by its pickle opcode, anything else as safetensors. Throws
 * ModelFileError for a file none of them reads.
 */
export function readTensorIndex(path: string): Promise<TensorIndex> {
  return withFile(path, async (file) => {
    const magic = await file.read(0, Math.min(4, file.size), 'magic')
    const tag = String.fromCharCode(...magic)
    if (tag === 'GGUF') return readGguf(file)
    if (tag === 'PK\x03\x04') return readCkpt(file)
    if (magic[0] === 0x80) return readLegacyTorch(file)
    return readSafetensors(file)
  })
}
