import type { Server } from '@cy/http'
import { ConfigError } from '../config-error.ts'
import type { ModelManager } from '../model-manager.ts'
import { StartupError } from '../startup-error.ts'
import { BuiltinModels } from './builtin-models.ts'
import { CatalogDownloads } from './catalog-downloads.ts'
import type { CatalogEntry } from './catalog-schema.ts'
import { loadCatalog, SHIPPED_CATALOG } from './load-catalog.ts'
import { pullModel } from './pull-model.ts'
import { pulledModelsFile, readPulledModels } from './pulled-models.ts'

export interface ServeCatalogOptions {
  /** The catalog YAML (default the shipped one). */
  catalogPath?: string
  /** `--pull`: downloaded before the server serves. */
  pull?: string[]
  server: Server
  models: ModelManager
  log: (line: string) => void
  tty: boolean
}

/**
 * Loads the catalog and the recorded ad-hoc pulls, downloads what `--pull` names, serves every entry already
 * in the Hugging Face cache, and hooks the catalog into the server: `/models/builtin`, and
 * `model_not_downloaded` for the names of entries not downloaded.
 */
export async function serveCatalog(options: ServeCatalogOptions): Promise<{ defaultId: string | undefined }> {
  const catalog = await loadCatalog(options.catalogPath ?? SHIPPED_CATALOG)
  const pulledFile = pulledModelsFile()
  const downloads = new CatalogDownloads()
  const pulled: CatalogEntry[] = await readPulledModels(pulledFile)
  for (const spec of options.pull ?? []) {
    try {
      const { entry, adhoc } = await pullModel(spec, { catalog, downloads, tty: options.tty, log: options.log, pulledFile })
      if (adhoc && !pulled.some((other) => other.id === entry.id)) pulled.push(entry)
    } catch (error) {
      if (error instanceof ConfigError) throw error
      throw new StartupError(`--pull ${spec}: ${(error as Error).message}`)
    }
  }
  const builtin = new BuiltinModels({ catalog, pulled, downloads, models: options.models, registry: options.server.registry, log: options.log, pulledFile })
  await builtin.start()
  options.server.registry.setMissingModelExplainer(builtin.explain)
  options.server.setBuiltinModels(builtin)
  return { defaultId: catalog.default }
}
