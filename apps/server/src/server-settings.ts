import type { GatewayOptions } from '@cy/gateway'
import type { MediaOptions, ServerOptions } from '@cy/http'
import { ConfigError } from './config-error.ts'

/** The library server's options the app passes on as they are (documented on `ServerOptions`). */
type PassedOn = Pick<
  ServerOptions,
  | 'maxConcurrency'
  | 'maxQueue'
  | 'timeoutMs'
  | 'queueTimeoutMs'
  | 'firstTokenTimeoutMs'
  | 'idleTimeoutMs'
  | 'responsesRetentionDays'
  | 'allowedHosts'
  | 'readTimeoutSeconds'
  | 'maxBodyBytes'
  | 'maxUploadBytes'
  | 'defaultModel'
  | 'tenants'
>

/** The server's settings, each from a flag, else its environment variable, else the config file, else a default. */
export interface ServerSettings extends PassedOn {
  port: number
  host: string
  /** The gRPC service's port (`--grpc-port`), on the same host; unset: no gRPC server. */
  grpcPort?: number
  modelsDir: string
  responsesDb: string
  apiKey?: string
  /** Browser origins allowed besides loopback pages: `'*'` or a list. */
  corsOrigins?: '*' | string[]
  gateway: GatewayOptions
  /** Chat images: allow-listed folders, size limit, fetch timeout, private addresses, remote URLs at all. */
  media?: MediaOptions
}

/** What flags and environment set (flags already won over the environment); unset keys are absent. */
export type CliSettings = Partial<ServerSettings>

export const DEFAULT_SETTINGS = {
  port: 8080,
  // This machine only, as llama-server and Ollama: `--host 0.0.0.0` opens it to the network.
  host: '127.0.0.1',
  modelsDir: './models',
  responsesDb: './data/responses.sqlite',
} as const

const OPTIONAL_INTEGER_KEYS = [
  'grpcPort',
  'maxConcurrency',
  'maxQueue',
  'timeoutMs',
  'queueTimeoutMs',
  'firstTokenTimeoutMs',
  'idleTimeoutMs',
  'responsesRetentionDays',
  'readTimeoutSeconds',
  'maxBodyBytes',
  'maxUploadBytes',
] as const
const INTEGER_KEYS = ['port', ...OPTIONAL_INTEGER_KEYS] as const
const STRING_KEYS = ['host', 'modelsDir', 'responsesDb', 'apiKey', 'defaultModel'] as const
const LIST_KEYS = ['corsOrigins', 'allowedHosts'] as const

/** The values each gateway setting takes. */
const GATEWAY_VALUES: Record<keyof GatewayOptions, readonly unknown[]> = {
  toolValidation: ['none', 'relaxed', 'strict'],
  invalidToolCalls: ['discard', 'text'],
  sessionTracking: ['hash', 'zero_width'],
  sessionConcurrency: ['off', 'reject', 'cancel_previous'],
  sanitize: [true, false],
}

/** The config file's `server.gateway`, checked key by key. */
function checkGateway(raw: unknown, source: string): GatewayOptions {
  if (raw === undefined) return {}
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`server.gateway in ${source} must be a mapping`)
  for (const [key, value] of Object.entries(raw)) {
    const allowed = GATEWAY_VALUES[key as keyof GatewayOptions]
    if (!allowed) throw new ConfigError(`server.gateway.${key} in ${source} is not a gateway setting (${Object.keys(GATEWAY_VALUES).join(', ')})`)
    if (!allowed.includes(value)) throw new ConfigError(`server.gateway.${key} in ${source} must be one of ${allowed.join(', ')}`)
  }
  return raw as GatewayOptions
}

/** Each `server.media` setting: what it must be, and how to say so. */
const MEDIA_CHECKS: Record<keyof MediaOptions & string, { valid: (value: unknown) => boolean; expected: string } | undefined> = {
  allowedDirs: { valid: (value) => Array.isArray(value) && value.every((dir) => typeof dir === 'string' && dir), expected: 'a list of folders' },
  maxBytes: { valid: (value) => Number.isInteger(value) && (value as number) > 0, expected: 'a positive integer' },
  maxTotalBytes: { valid: (value) => Number.isInteger(value) && (value as number) > 0, expected: 'a positive integer' },
  timeoutMs: { valid: (value) => Number.isInteger(value) && (value as number) >= 0, expected: 'a non-negative integer (0 for none)' },
  allowPrivateUrls: { valid: (value) => typeof value === 'boolean', expected: 'true or false' },
  remote: { valid: (value) => typeof value === 'boolean', expected: 'true or false' },
  maxRedirects: { valid: (value) => Number.isInteger(value) && (value as number) >= 0, expected: 'a non-negative integer' },
  // A resolver is code, not configuration.
  lookup: undefined,
}

/** The config file's `server.media`, checked key by key (its folders were made absolute by loadConfigFile). */
function checkMedia(raw: unknown, source: string): MediaOptions | undefined {
  if (raw === undefined) return undefined
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`server.media in ${source} must be a mapping`)
  for (const [key, value] of Object.entries(raw)) {
    const check = MEDIA_CHECKS[key as keyof MediaOptions]
    if (!check) throw new ConfigError(`server.media.${key} in ${source} is not a media setting (${Object.keys(MEDIA_CHECKS).filter((name) => MEDIA_CHECKS[name as keyof MediaOptions]).join(', ')})`)
    if (!check.valid(value)) throw new ConfigError(`server.media.${key} in ${source} must be ${check.expected}`)
  }
  return raw as MediaOptions
}

/** The config file's `server.tenants` (the engine API's): each a mapping with an optional `maxConcurrency` and `maxQueue`. */
function checkTenants(raw: unknown, source: string): ServerSettings['tenants'] {
  if (raw === undefined) return undefined
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`server.tenants in ${source} must be a mapping of tenant names`)
  for (const [name, tenant] of Object.entries(raw)) {
    if (typeof tenant !== 'object' || tenant === null || Array.isArray(tenant)) throw new ConfigError(`server.tenants.${name} in ${source} must be a mapping`)
    for (const [key, value] of Object.entries(tenant)) {
      if (key !== 'maxConcurrency' && key !== 'maxQueue') throw new ConfigError(`server.tenants.${name}.${key} in ${source} is not a tenant setting (maxConcurrency, maxQueue)`)
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new ConfigError(`server.tenants.${name}.${key} in ${source} must be a non-negative integer`)
    }
  }
  return raw as ServerSettings['tenants']
}

/** The config file's `server` section, checked: a wrong type is an error naming the key, not a silent default. */
function checkFileSettings(raw: Record<string, unknown>, source: string): CliSettings {
  const settings: Record<string, unknown> = { gateway: checkGateway(raw.gateway, source) }
  const media = checkMedia(raw.media, source)
  if (media) settings.media = media
  const tenants = checkTenants(raw.tenants, source)
  if (tenants) settings.tenants = tenants
  for (const key of INTEGER_KEYS) {
    const value = raw[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new ConfigError(`server.${key} in ${source} must be a non-negative integer`)
    settings[key] = value
  }
  for (const key of STRING_KEYS) {
    const value = raw[key]
    if (value === undefined) continue
    if (typeof value !== 'string' || value === '') throw new ConfigError(`server.${key} in ${source} must be a non-empty string`)
    settings[key] = value
  }
  for (const key of LIST_KEYS) {
    const value = raw[key]
    if (value === undefined) continue
    if (value !== '*' && !(Array.isArray(value) && value.every((entry) => typeof entry === 'string' && entry))) {
      throw new ConfigError(`server.${key} in ${source} must be "*" or a list of names`)
    }
    settings[key] = value
  }
  return settings as CliSettings
}

/**
 * One merge for every setting: flags > environment > config file > defaults (the flags and environment
 * were merged by parseCliOptions). `??`, so a 0 from any source is a 0, not "unset".
 */
export function resolveSettings(cli: CliSettings, file: Record<string, unknown> = {}, source = 'the config file'): ServerSettings {
  const fromFile = checkFileSettings(file, source)
  const pick = <K extends keyof ServerSettings>(key: K): ServerSettings[K] | undefined => cli[key] ?? fromFile[key]
  const settings: ServerSettings = {
    port: pick('port') ?? DEFAULT_SETTINGS.port,
    host: pick('host') ?? DEFAULT_SETTINGS.host,
    modelsDir: pick('modelsDir') ?? DEFAULT_SETTINGS.modelsDir,
    responsesDb: pick('responsesDb') ?? DEFAULT_SETTINGS.responsesDb,
    gateway: { ...fromFile.gateway, ...cli.gateway },
  }
  // Each media setting on its own: a flag for one does not drop the file's others.
  if (fromFile.media || cli.media) settings.media = { ...fromFile.media, ...cli.media }
  for (const key of ['apiKey', 'defaultModel', 'tenants', 'corsOrigins', 'allowedHosts', ...OPTIONAL_INTEGER_KEYS] as const) {
    const value = pick(key)
    if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value
  }
  return settings
}
