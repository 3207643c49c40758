import { cacheRoot } from '@cy/native'
import { Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { CatalogError } from './catalog-error.ts'
import { CatalogEntrySchema, type CatalogEntry } from './catalog-schema.ts'

/**
 * Where ad-hoc pulls (`pull org/repo:Q4_K_M`) are recorded, so the next start serves them: CY_PULLED_MODELS,
 * else `pulled-models.json` in cy's cache folder (CY_CACHE_DIR, else ~/.cache/cy). The files themselves are
 * in the Hugging Face cache; this is only the list of entries.
 */
export const pulledModelsFile = (env: Record<string, string | undefined> = process.env): string => env.CY_PULLED_MODELS ?? join(cacheRoot(), 'pulled-models.json')

const PulledSchema = Type.Object({ models: Type.Array(CatalogEntrySchema) })

/** The recorded ad-hoc pulls (none when the file does not exist). */
export async function readPulledModels(path = pulledModelsFile()): Promise<CatalogEntry[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw new CatalogError(`Cannot read the pulled models ${path}: ${error.message}`)
  })
  if (text === undefined) return []
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new CatalogError(`The pulled models file ${path} is not JSON: ${(error as Error).message}`)
  }
  if (!Value.Check(PulledSchema, raw)) {
    const first = [...Value.Errors(PulledSchema, raw)][0]
    throw new CatalogError(`The pulled models file ${path} is invalid at ${first?.path || '/'}: ${first?.message}`)
  }
  return raw.models
}

/** Written to a temporary name and renamed, so a reader never sees half a file. */
async function writePulledModels(models: CatalogEntry[], path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify({ models }, null, 2)}\n`)
  await rename(temporary, path)
}

/** Adds (or replaces, by id) an ad-hoc pull in the record. */
export async function recordPulledModel(entry: CatalogEntry, path = pulledModelsFile()): Promise<void> {
  const models = (await readPulledModels(path)).filter((other) => other.id !== entry.id)
  await writePulledModels([...models, entry], path)
}

/** Drops an ad-hoc pull from the record (its files were deleted). */
export async function forgetPulledModel(id: string, path = pulledModelsFile()): Promise<void> {
  const models = await readPulledModels(path)
  if (models.some((entry) => entry.id === id)) await writePulledModels(models.filter((entry) => entry.id !== id), path)
}
