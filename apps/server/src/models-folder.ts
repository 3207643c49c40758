import type { ModelConfig } from '@cy/core'
import { existsSync } from 'node:fs'
import { open, readdir, stat } from 'node:fs/promises'
import { basename, extname, join, resolve } from 'node:path'
import type { DiscoveredAdapter } from './adapter-discovery.ts'

const HEAD_BYTES = 64

async function head(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r')
  try {
    const buffer = new Uint8Array(HEAD_BYTES)
    const { bytesRead } = await file.read(buffer, 0, HEAD_BYTES, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await file.close()
  }
}

export interface FolderScan {
  models: ModelConfig[]
  /** Files no adapter claimed, with why, for the banner. */
  unclaimed: string[]
}

/**
 * Offers each file of the models folder to the adapters; the first that claims it serves it as a model
 * named after the file without its extension. Hidden files are skipped; a missing folder is no models.
 */
export async function scanModelsFolder(dir: string, adapters: DiscoveredAdapter[]): Promise<FolderScan> {
  const scan: FolderScan = { models: [], unclaimed: [] }
  const folder = resolve(dir)
  if (!existsSync(folder)) return scan
  for (const name of (await readdir(folder)).sort()) {
    if (name.startsWith('.')) continue
    const path = join(folder, name)
    if (!(await stat(path)).isFile()) continue
    const bytes = await head(path)
    let claimedBy: DiscoveredAdapter | undefined
    for (const candidate of adapters) {
      if ((await candidate.adapter.canLoad(path, bytes)).claim) {
        claimedBy = candidate
        break
      }
    }
    if (claimedBy) scan.models.push({ name: basename(name, extname(name)), adapter: claimedBy.adapter.manifest.name, path })
    else scan.unclaimed.push(name)
  }
  return scan
}
