import type { GatewayOptions } from '@cy/gateway'
import { readFile } from 'node:fs/promises'
import { dirname, extname, isAbsolute, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from './config-error.ts'
import { parseKeepAlive, type ManagedModelConfig } from './managed-config.ts'

/** The config file: models to load, options per adapter, and server settings. */
export interface ConfigFile {
  models: ManagedModelConfig[]
  /** Options handed to each adapter's factory, by adapter name. */
  adapters: Record<string, Record<string, unknown>>
  /** More names for loaded models (`whisper-1: ggml-base`), so clients that hard-code a name work. */
  aliases: Record<string, string>
  /**
   * Server settings, checked when merged (resolveSettings): the keys of `ServerSettings` in server-settings.ts,
   * and `gateway` (its settings are checked there too).
   */
  server: Record<string, unknown> & { modelsDir?: string; responsesDb?: string; gateway?: GatewayOptions; media?: Record<string, unknown> }
}

export { ConfigError } from './config-error.ts'

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function parseAliases(raw: unknown, path: string): Record<string, string> {
  if (raw === undefined) return {}
  if (!isObject(raw) || !Object.values(raw).every((target) => typeof target === 'string' && target)) {
    throw new ConfigError(`'aliases' in ${path} must map names to model names`)
  }
  return raw as Record<string, string>
}

/** Reads and checks a JSON or YAML config; model paths are relative to the file. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`Cannot read the config file ${path}: ${(error as Error).message}`)
  }
  let raw: unknown
  try {
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text)
  } catch (error) {
    throw new ConfigError(`The config file ${path} is not valid ${extname(path).slice(1).toUpperCase() || 'JSON'}: ${(error as Error).message}`)
  }
  raw ??= {}
  if (!isObject(raw)) throw new ConfigError(`The config file ${path} must hold an object`)
  const base = dirname(resolve(path))
  const models = raw.models ?? []
  if (!Array.isArray(models)) throw new ConfigError(`'models' in ${path} must be a list`)
  const config: ConfigFile = {
    models: models.map((entry, index) => {
      if (!isObject(entry) || typeof entry.name !== 'string' || !entry.name || typeof entry.adapter !== 'string' || !entry.adapter) {
        throw new ConfigError(`models[${index}] in ${path} needs a 'name' and an 'adapter'`)
      }
      if (entry.options !== undefined && !isObject(entry.options)) throw new ConfigError(`models[${index}].options in ${path} must be an object`)
      const model: ManagedModelConfig = { name: entry.name, adapter: entry.adapter }
      if (typeof entry.path === 'string') model.path = isAbsolute(entry.path) ? entry.path : resolve(base, entry.path)
      if (entry.options) {
        model.options = entry.options
        model.configDir = base
      }
      // A multimodal projector, `mmproj:` beside `path` or in `options`: a path relative to the file, like `path`.
      const mmproj = entry.mmproj ?? entry.options?.mmproj
      if (mmproj !== undefined) {
        if (typeof mmproj !== 'string' || !mmproj) throw new ConfigError(`models[${index}].mmproj in ${path} must be the path of a projector GGUF`)
        model.options = { ...model.options, mmproj: isAbsolute(mmproj) ? mmproj : resolve(base, mmproj) }
        model.configDir = base
      }
      if (entry.load !== undefined) {
        if (entry.load !== 'eager' && entry.load !== 'lazy') throw new ConfigError(`models[${index}].load in ${path} must be eager or lazy`)
        model.load = entry.load
      }
      if (entry.keepAlive !== undefined) {
        const keepAliveMs = parseKeepAlive(entry.keepAlive)
        if (keepAliveMs === undefined) throw new ConfigError(`models[${index}].keepAlive in ${path} must be seconds, a duration such as 5m, 30s or 500ms, or -1 for never`)
        model.keepAliveMs = keepAliveMs
      }
      return model
    }),
    adapters: isObject(raw.adapters) ? (raw.adapters as ConfigFile['adapters']) : {},
    aliases: parseAliases(raw.aliases, path),
    server: isObject(raw.server) ? (raw.server as ConfigFile['server']) : {},
  }
  if (typeof config.server.modelsDir === 'string' && !isAbsolute(config.server.modelsDir)) config.server.modelsDir = resolve(base, config.server.modelsDir)
  if (typeof config.server.responsesDb === 'string' && config.server.responsesDb !== ':memory:' && !isAbsolute(config.server.responsesDb)) {
    config.server.responsesDb = resolve(base, config.server.responsesDb)
  }
  const mediaDirs = isObject(config.server.media) ? config.server.media.allowedDirs : undefined
  if (Array.isArray(mediaDirs)) config.server.media = { ...config.server.media, allowedDirs: mediaDirs.map((dir) => (typeof dir === 'string' && dir ? resolve(base, dir) : dir)) }
  return config
}
