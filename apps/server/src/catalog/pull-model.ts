import type { CatalogDownloads } from './catalog-downloads.ts'
import type { Catalog, CatalogEntry } from './catalog-schema.ts'
import { entryFiles } from './load-catalog.ts'
import { downloadProgress } from './pull-progress.ts'
import { resolvePullSpec } from './pull-spec.ts'
import { recordPulledModel } from './pulled-models.ts'

export interface PullOptions {
  catalog: Catalog
  downloads: CatalogDownloads
  /** Draw a progress bar (stderr is a terminal). */
  tty: boolean
  log: (line: string) => void
  /** Where ad-hoc pulls are recorded (default: pulledModelsFile()). */
  pulledFile?: string
}

/**
 * `pull <id | org/repo[:file or quant]>`: resolves what is named, downloads it (or finds it in the Hugging Face
 * cache) with progress shown, and records an ad-hoc pull so the next start serves it. Resolves with the entry.
 */
export async function pullModel(spec: string, options: PullOptions): Promise<{ entry: CatalogEntry; paths: string[]; adhoc: boolean }> {
  const { entry, adhoc } = await resolvePullSpec(spec, options.catalog)
  const cached = await options.downloads.findAll(entry)
  let paths = cached
  if (!paths) {
    options.log(`pulling ${entry.id} from ${entry.hf}: ${entryFiles(entry).join(', ')}`)
    const progress = downloadProgress(entry.id, options.tty, options.log)
    try {
      paths = await options.downloads.download(entry, progress.update)
    } finally {
      progress.stop()
    }
  }
  if (adhoc) await recordPulledModel(entry, options.pulledFile)
  options.log(`${entry.id} ${cached ? 'was already in the Hugging Face cache' : 'downloaded'}: ${paths[0]}${adhoc ? ` (recorded: served as '${entry.id}' from the next start)` : ''}`)
  return { entry, paths, adhoc }
}
