import { isAdapterV1, type AdapterFactory, type AdapterV1 } from '@cy/core'
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

export interface DiscoveredAdapter {
  adapter: AdapterV1
  packageName: string
  version: string
  directory: string
}

interface AdapterPackage {
  name: string
  version: string
  directory: string
  entry: string
}

/** Every `node_modules/@cy` folder from `start` up to the root. */
function scopeFoldersAbove(start: string): string[] {
  const folders: string[] = []
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    folders.push(join(dir, 'node_modules', '@cy'))
    if (dirname(dir) === dir) return folders
  }
}

/** Installed packages that declare `"cy": { "adapter": "<entry>" }` in their package.json. */
export function findAdapterPackages(searchFrom: string[], extraFolders: string[] = []): AdapterPackage[] {
  const candidates: string[] = []
  for (const folder of [...new Set(searchFrom.flatMap(scopeFoldersAbove))]) {
    if (!existsSync(folder)) continue
    for (const name of readdirSync(folder)) if (name.startsWith('adapter-')) candidates.push(join(folder, name))
  }
  for (const folder of extraFolders) {
    if (existsSync(join(folder, 'package.json'))) candidates.push(folder)
    else if (existsSync(folder)) for (const name of readdirSync(folder)) candidates.push(join(folder, name))
  }
  const found = new Map<string, AdapterPackage>()
  for (const candidate of candidates) {
    const manifestPath = join(candidate, 'package.json')
    if (!existsSync(manifestPath)) continue
    const pkg = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name?: string; version?: string; cy?: { adapter?: string } }
    const entry = pkg.cy?.adapter
    if (!pkg.name || typeof entry !== 'string') continue
    // The first one found wins: the nearest install shadows those further up.
    if (!found.has(pkg.name)) found.set(pkg.name, { name: pkg.name, version: pkg.version ?? '0.0.0', directory: realpathSync(candidate), entry })
  }
  return [...found.values()]
}

/** Imports each adapter package and calls its factory with the config's options for it (keyed `llama` for `@cy/adapter-llama`). */
export async function loadAdapters(packages: AdapterPackage[], optionsByName: Record<string, Record<string, unknown>>): Promise<DiscoveredAdapter[]> {
  const adapters: DiscoveredAdapter[] = []
  for (const pkg of packages) {
    const module = (await import(join(pkg.directory, pkg.entry))) as { default?: AdapterFactory }
    if (typeof module.default !== 'function') throw new Error(`${pkg.name}: its adapter entry ${pkg.entry} has no default export factory`)
    const shortName = pkg.name.replace(/^@cy\/adapter-/, '')
    const adapter = await module.default(optionsByName[shortName] ?? {})
    if (!isAdapterV1(adapter)) throw new Error(`${pkg.name}: the factory did not return an adapter of a known contract version (expected specificationVersion 'v1')`)
    adapters.push({ adapter, packageName: pkg.name, version: pkg.version, directory: pkg.directory })
  }
  return adapters
}
