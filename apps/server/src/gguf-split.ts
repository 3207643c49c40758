/** llama.cpp's split GGUF names (`gguf-split`): `<name>-00001-of-00003.gguf`. */
const SPLIT = /^(.+)-(\d{5})-of-(\d{5})\.gguf$/i

export interface SplitPart {
  /** The model's name: the file name before the part numbers. */
  base: string
  part: number
  total: number
}

export function splitPart(fileName: string): SplitPart | undefined {
  const match = SPLIT.exec(fileName)
  if (!match) return undefined
  const part = Number(match[2])
  const total = Number(match[3])
  return part >= 1 && total >= 1 && part <= total ? { base: match[1]!, part, total } : undefined
}

/** The file names of every part of a split, in order (llama.cpp loads parts 2..N by these names beside the first). */
export function splitPartNames(fileName: string, split: SplitPart): string[] {
  const width = 5
  const extension = fileName.slice(-'.gguf'.length)
  const total = String(split.total).padStart(width, '0')
  return Array.from({ length: split.total }, (_, i) => `${split.base}-${String(i + 1).padStart(width, '0')}-of-${total}${extension}`)
}
