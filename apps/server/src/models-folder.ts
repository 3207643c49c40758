import type { ModelConfig } from '@cy/core'
import { readGguf, withFile } from '@cy/native'
import { existsSync } from 'node:fs'
import { open, readdir, stat } from 'node:fs/promises'
import { basename, extname, join, resolve } from 'node:path'
import type { DiscoveredAdapter } from './adapter-discovery.ts'
import { splitPart, splitPartNames } from './gguf-split.ts'
import { pairingStem, projectorStem } from './projector-names.ts'

const HEAD_BYTES = 64
const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]
/** `general.architecture` of a multimodal projector (llama.cpp's `clip.cpp` reads it, `--mmproj`). */
const PROJECTOR_ARCHITECTURE = 'clip'

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
  /** Files no adapter claimed, or left out (a projector with no model, a split missing a part), with why, for the banner. */
  unclaimed: string[]
}

/** A file of the scan: its name in its folder, as the banner shows it (`sub/name`), and its path. */
interface FolderFile {
  fileName: string
  shown: string
  path: string
}

/** A model found in one folder, and the stem its projector's name is compared with. */
interface Found {
  config: ModelConfig
  stem: string
  /** Its adapter serves chat, so a projector beside it is its own. */
  chat: boolean
}

/** The files of a folder (sorted, hidden ones skipped) and its subfolders' names. */
async function list(folder: string, prefix: string): Promise<{ files: FolderFile[]; folders: string[] }> {
  const files: FolderFile[] = []
  const folders: string[] = []
  for (const fileName of (await readdir(folder)).sort()) {
    if (fileName.startsWith('.')) continue
    const path = join(folder, fileName)
    const info = await stat(path).catch(() => undefined)
    if (info?.isFile()) files.push({ fileName, shown: prefix + fileName, path })
    else if (info?.isDirectory()) folders.push(fileName)
  }
  return { files, folders }
}

async function architecture(path: string, bytes: Uint8Array): Promise<string | undefined> {
  if (!GGUF_MAGIC.every((byte, i) => bytes[i] === byte)) return undefined
  return withFile(path, readGguf).then(
    (index) => index.metadata['general.architecture'],
    () => undefined,
  )
}

/**
 * Offers each file of the models folder, and of its subfolders one level down (a model and its projector,
 * as LM Studio and `llama-server -hf` lay them out), to the adapters; the first that claims one serves it
 * as a model named after the file without its extension. A split GGUF (`name-00001-of-00003.gguf`) is one
 * model, `name`, loaded from its first part; a multimodal projector (a GGUF of architecture `clip`) is no
 * model but its neighbour's `options.mmproj`. A missing folder is no models.
 */
export async function scanModelsFolder(dir: string, adapters: DiscoveredAdapter[]): Promise<FolderScan> {
  const scan: FolderScan = { models: [], unclaimed: [] }
  const folder = resolve(dir)
  if (!existsSync(folder)) return scan
  const top = await list(folder, '')
  const names = new Set<string>()
  await scanFiles(top.files, adapters, scan, names)
  for (const sub of top.folders) await scanFiles((await list(join(folder, sub), `${sub}/`)).files, adapters, scan, names)
  return scan
}

/** One folder's files: splits gathered, projectors set aside, the rest offered to the adapters, then the projectors paired. */
async function scanFiles(files: FolderFile[], adapters: DiscoveredAdapter[], scan: FolderScan, names: Set<string>): Promise<void> {
  const present = new Set(files.map((file) => file.fileName))
  const found: Found[] = []
  const projectors: FolderFile[] = []
  for (const file of files) {
    const split = splitPart(file.fileName)
    // Parts 2..N load with the first (llama.cpp finds them by name); they are no models of their own.
    if (split && split.part !== 1) {
      if (!present.has(splitPartNames(file.fileName, split)[0]!)) scan.unclaimed.push(`${file.shown} (part ${split.part} of a split GGUF whose first part is missing)`)
      continue
    }
    if (split) {
      const missing = splitPartNames(file.fileName, split).filter((name) => !present.has(name))
      if (missing.length) {
        scan.unclaimed.push(`${file.shown} (a split GGUF missing ${missing.join(', ')}; not offered until every part is there)`)
        continue
      }
    }
    const bytes = await head(file.path)
    if ((await architecture(file.path, bytes)) === PROJECTOR_ARCHITECTURE) {
      projectors.push(file)
      continue
    }
    let claimedBy: DiscoveredAdapter | undefined
    for (const candidate of adapters) {
      if ((await candidate.adapter.canLoad(file.path, bytes)).claim) {
        claimedBy = candidate
        break
      }
    }
    if (!claimedBy) {
      scan.unclaimed.push(file.shown)
      continue
    }
    const name = split ? split.base : basename(file.fileName, extname(file.fileName))
    if (names.has(name)) {
      scan.unclaimed.push(`${file.shown} (a model named '${name}' was found before it)`)
      continue
    }
    names.add(name)
    const config: ModelConfig = { name, adapter: claimedBy.adapter.manifest.name, path: file.path }
    scan.models.push(config)
    found.push({ config, stem: pairingStem(name), chat: claimedBy.adapter.manifest.capabilities.includes('chat') })
  }
  for (const projector of projectors) pairProjector(projector, found, scan)
}

/**
 * Gives a projector to the models beside it that it names (`mmproj-<model>-f16.gguf`: every quant of that
 * model), else to the only chat model of its folder. Otherwise, or when they have one already, it is
 * listed with why.
 */
function pairProjector(projector: FolderFile, found: Found[], scan: FolderScan): void {
  const models = found.filter((model) => model.chat)
  const stem = projectorStem(basename(projector.fileName, extname(projector.fileName)))
  const named = models.filter((model) => model.stem === stem)
  const targets = named.length > 0 ? named : models.length === 1 ? models : []
  if (targets.length === 0) {
    const why =
      models.length === 0
        ? 'a multimodal projector with no model beside it'
        : `a multimodal projector beside several models (${models.map((model) => model.config.name).join(', ')}) and named like none of them; name it mmproj-<model>.gguf, or set mmproj: on the model in the config file`
    scan.unclaimed.push(`${projector.shown} (${why})`)
    return
  }
  const free = targets.filter((model) => model.config.options?.mmproj === undefined)
  if (free.length === 0) {
    const taken = targets.map((model) => `'${model.config.name}' uses ${basename(String(model.config.options!.mmproj))}`).join(', ')
    scan.unclaimed.push(`${projector.shown} (another projector for the same model: ${taken})`)
    return
  }
  for (const model of free) model.config.options = { ...model.config.options, mmproj: projector.path }
}
