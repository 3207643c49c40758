import { type FileWindow, ModelFileError, type TensorIndex, type TensorInfo } from '@cy/native'
import { tensorsFromLegacyTorch, tensorsFromTorchPickle } from './torch-pickle.ts'
import { readZipDirectory, readZipEntry } from './zip-directory.ts'

/** A torch zip checkpoint (.ckpt/.pt): every `data.pkl` in it, as sd.cpp reads them (the tensor data is not touched). */
export async function readCkpt(file: FileWindow): Promise<TensorIndex> {
  const pickles = (await readZipDirectory(file)).filter((entry) => entry.name.includes('data.pkl'))
  if (pickles.length === 0) throw new ModelFileError('zip file without a data.pkl: not a torch checkpoint')
  const tensors: TensorInfo[] = []
  for (const entry of pickles) tensors.push(...tensorsFromTorchPickle(await readZipEntry(file, entry)))
  return { format: 'ckpt', tensors, metadata: {} }
}

/** The pickles lead a legacy file, its storages follow: its first bytes (capped) hold all this reader needs. */
const LEGACY_HEAD_BYTES = 64 * 1024 * 1024

/** A legacy (non-zip) torch file: its leading pickles, as sd.cpp's torch_legacy_io reads them. */
export async function readLegacyTorch(file: FileWindow): Promise<TensorIndex> {
  const head = await file.read(0, Math.min(file.size, LEGACY_HEAD_BYTES), 'legacy torch pickles')
  return { format: 'ckpt', tensors: tensorsFromLegacyTorch(head), metadata: {} }
}
