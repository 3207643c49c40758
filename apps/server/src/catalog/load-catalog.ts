import { Value } from '@sinclair/typebox/value'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { CatalogError } from './catalog-error.ts'
import { CatalogSchema, type Catalog, type CatalogEntry } from './catalog-schema.ts'

/** The catalog shipped with the server. */
export const SHIPPED_CATALOG = resolve(import.meta.dir, '..', '..', 'catalog', 'models.yaml')

/** The files of an entry, the weights first. */
export const entryFiles = (entry: CatalogEntry): string[] => [entry.files.model, ...(entry.files.mmproj ? [entry.files.mmproj] : []), ...(entry.files.extra ?? [])]

/** `models[2] (whisper-base).files.model`: where in the file a value is. */
function where(raw: unknown, pointer: string): string {
  const parts = pointer.split('/').slice(1)
  if (parts[0] !== 'models' || parts[1] === undefined) return parts.join('.') || '(the top level)'
  const entry = (raw as { models?: Array<{ id?: unknown }> }).models?.[Number(parts[1])]
  const id = typeof entry?.id === 'string' ? ` (${entry.id})` : ''
  return `models[${parts[1]}]${id}${parts.slice(2).map((part) => `.${part}`).join('')}`
}

/**
 * The Hugging Face id a model answers to besides its short id: its repository, when no other entry shares it
 * (whisper base and small both live in ggerganov/whisper.cpp, so neither takes the repository's name).
 */
export function hfAlias(catalog: Catalog, entry: CatalogEntry): string | undefined {
  return catalog.models.filter((other) => other.hf === entry.hf).length === 1 ? entry.hf : undefined
}

/** A union of literals reads as its choices rather than TypeBox's "Expected union value". */
function explain(schema: unknown, value: unknown): string | undefined {
  const choices = (schema as { anyOf?: Array<{ const?: unknown }> }).anyOf?.map((member) => member.const)
  if (!choices?.length || choices.some((choice) => choice === undefined)) return undefined
  return `expected one of ${choices.join(', ')}, got ${JSON.stringify(value)}`
}

/** Checks a parsed catalog: the schema, unique ids, sha256 keys naming the entry's files, the default existing. */
export function checkCatalog(raw: unknown, source: string): Catalog {
  if (!Value.Check(CatalogSchema, raw)) {
    const errors = [...Value.Errors(CatalogSchema, raw)].slice(0, 5).map((error) => `${where(raw, error.path)}: ${explain(error.schema, error.value) ?? error.message}`)
    throw new CatalogError(`The model catalog ${source} is invalid:\n  ${errors.join('\n  ')}`)
  }
  const seen = new Set<string>()
  for (const [index, entry] of raw.models.entries()) {
    const at = `models[${index}] (${entry.id})`
    if (seen.has(entry.id)) throw new CatalogError(`The model catalog ${source}: ${at} repeats the id '${entry.id}'`)
    seen.add(entry.id)
    const files = entryFiles(entry)
    for (const file of Object.keys(entry.sha256 ?? {})) {
      if (!files.includes(file)) throw new CatalogError(`The model catalog ${source}: ${at}.sha256 names '${file}', which is not one of its files (${files.join(', ')})`)
    }
  }
  if (raw.default !== undefined && !raw.models.some((entry) => entry.id === raw.default)) {
    throw new CatalogError(`The model catalog ${source}: default '${raw.default}' is not one of its ids`)
  }
  return raw
}

/** Reads and checks a catalog YAML file (the shipped one by default). */
export async function loadCatalog(path = SHIPPED_CATALOG): Promise<Catalog> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new CatalogError(`Cannot read the model catalog ${path}: ${(error as Error).message}`)
  }
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (error) {
    throw new CatalogError(`The model catalog ${path} is not valid YAML: ${(error as Error).message}`)
  }
  return checkCatalog(raw ?? { models: [] }, path)
}
