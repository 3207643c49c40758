import { parseArgs } from 'node:util'
import { ConfigError } from '../config-error.ts'
import { CatalogDownloads } from './catalog-downloads.ts'
import { loadCatalog, SHIPPED_CATALOG } from './load-catalog.ts'
import { pullModel } from './pull-model.ts'

export const PULL_USAGE = `Usage: bun run apps/server pull <id | org/repo[:file or quant]> [--catalog <file>]

Downloads a model into the Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub)
from HF_ENDPOINT (default https://huggingface.co), with HF_TOKEN for gated repositories; a download cut off
resumes where it stopped. The server serves it on its next start.

  <id>                  a catalog model (GET /models/builtin lists them), or its Hugging Face id
  org/repo:Q4_K_M       the GGUF of that quant in the repository (default Q4_K_M), with its mmproj projector
  org/repo:file.gguf    that file
  --catalog <file>      CY_CATALOG  the model catalog YAML (default: apps/server/catalog/models.yaml)`

/** To stderr, uncoloured (Bun paints console.error red on a terminal). */
const writeLine = (line: string) => void process.stderr.write(`${line}\n`)

/** `pull`: 0 once downloaded (or found in the cache), 1 when the download fails, 2 for a usage or catalog mistake. */
export async function pullCommand(argv: string[], env: Record<string, string | undefined>, log: (line: string) => void = writeLine): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { catalog: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true })
  } catch (error) {
    log(`${(error as Error).message}\n\n${PULL_USAGE}`)
    return 2
  }
  if (parsed.values.help) {
    console.log(PULL_USAGE)
    return 0
  }
  if (parsed.positionals.length !== 1) {
    log(`pull takes one model\n\n${PULL_USAGE}`)
    return 2
  }
  try {
    const catalog = await loadCatalog(parsed.values.catalog ?? env.CY_CATALOG ?? SHIPPED_CATALOG)
    await pullModel(parsed.positionals[0]!, { catalog, downloads: new CatalogDownloads(), tty: process.stderr.isTTY === true, log })
    return 0
  } catch (error) {
    log(`pull failed: ${(error as Error).message}`)
    return error instanceof ConfigError ? 2 : 1
  }
}
