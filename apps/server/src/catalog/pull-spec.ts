import { listRepoFiles, pickGguf } from '@cy/hub'
import { basename, extname } from 'node:path'
import type { Catalog, CatalogEntry } from './catalog-schema.ts'
import { CatalogError } from './catalog-error.ts'

const REPO_SPEC = /^([\w.-]+\/[\w.-]+)(?::(.+))?$/

/** The id an ad-hoc pull is served under: its model file's name without the extension (as the models folder names files), lower-cased. */
const adhocId = (file: string) =>
  basename(file, extname(file)).toLowerCase().replace(/-00001-of-\d{5}$/, '').replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '') || 'model'

/** The adapter for a hub file that is not in the catalog, by its kind. */
function adapterFor(file: string): Pick<CatalogEntry, 'adapter' | 'capabilities'> | undefined {
  const name = basename(file).toLowerCase()
  if (name.endsWith('.gguf')) return { adapter: 'llama', capabilities: ['chat', 'completion', 'embedding'] }
  if (/^ggml-.*\.bin$/.test(name)) return { adapter: 'whisper', capabilities: ['asr'] }
  return undefined
}

/**
 * What `pull` is asked for: a catalog id (or a catalog model's Hugging Face id), else `org/repo[:file or
 * quant]`, resolved as llama-server's `-hf` does: a file name is taken as it is; a quant (default Q4_K_M)
 * picks the GGUF carrying it, with the repository's `mmproj-*.gguf` projector when there is one. Resolving a
 * quant lists the repository's files on the hub. The result is a catalog entry (`adhoc` when not in the catalog).
 */
export async function resolvePullSpec(spec: string, catalog: Catalog, hub: { endpoint?: string; token?: string } = {}): Promise<{ entry: CatalogEntry; adhoc: boolean }> {
  const known = catalog.models.find((entry) => entry.id === spec) ?? catalog.models.find((entry) => entry.hf === spec)
  if (known) return { entry: known, adhoc: false }
  const match = REPO_SPEC.exec(spec)
  if (!match) throw new CatalogError(`'${spec}' is neither a catalog id (${catalog.models.map((entry) => entry.id).join(', ')}) nor org/repo[:file or quant]`)
  const [, repo, tag] = match as unknown as [string, string, string | undefined]
  let files: { model: string; mmproj?: string; extra?: string[] }
  if (tag && extname(tag)) {
    files = { model: tag }
  } else {
    const listed = (await listRepoFiles({ repo, ...hub })).map((file) => file.path)
    const pick = pickGguf(listed, tag)
    if (!pick) {
      const ggufs = listed.filter((path) => path.toLowerCase().endsWith('.gguf'))
      throw new CatalogError(`${repo} has no GGUF ${tag ? `for '${tag}'` : 'for Q4_K_M (name a quant or a file: org/repo:Q8_0)'}; its GGUF files: ${ggufs.join(', ') || 'none'}`)
    }
    files = { model: pick.model, ...(pick.mmproj ? { mmproj: pick.mmproj } : {}), ...(pick.shards ? { extra: pick.shards } : {}) }
  }
  // The catalog's own entry when the pull names its file (Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M).
  const same = catalog.models.find((entry) => entry.hf === repo && entry.files.model === files.model)
  if (same) return { entry: same, adhoc: false }
  const kind = adapterFor(files.model)
  if (!kind) throw new CatalogError(`cannot tell which adapter serves ${repo}/${files.model} (pull GGUF or whisper.cpp ggml-*.bin files, or add it to a catalog with its adapter)`)
  const entry: CatalogEntry = {
    id: adhocId(files.model),
    hf: repo,
    files,
    ...kind,
    description: `${repo}/${files.model}, pulled by hand`,
    license: 'see the repository',
  }
  return { entry, adhoc: true }
}
