import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serverOptions } from '../../apps/server/src/app.ts'
import { parseCliOptions } from '../../apps/server/src/cli-options.ts'
import { ConfigError, loadConfigFile } from '../../apps/server/src/config-file.ts'
import { DEFAULT_SETTINGS, resolveSettings, type ServerSettings } from '../../apps/server/src/server-settings.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-settings-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

/** The merged settings for these flags, environment and config file `server:` section. */
async function merged(argv: string[], env: Record<string, string>, server: Record<string, unknown> | undefined): Promise<ServerSettings> {
  const path = join(dir, `cy-${Math.random().toString(36).slice(2)}.json`)
  await writeFile(path, JSON.stringify(server ? { server } : {}))
  const config = await loadConfigFile(path)
  return resolveSettings(parseCliOptions(argv, env)!, config.server, path)
}

/**
 * Each key: its flag, its environment variable, a value for each of the three sources and the default.
 * Every row checks flag > env > file > default.
 */
const KEYS: Array<{ key: keyof ServerSettings; flag: string; env: string; values: [string, string, unknown]; parsed: [unknown, unknown]; fallback: unknown }> = [
  { key: 'port', flag: '--port', env: 'PORT', values: ['1001', '1002', 1003], parsed: [1001, 1002], fallback: 8080 },
  { key: 'host', flag: '--host', env: 'HOST', values: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], parsed: ['10.0.0.1', '10.0.0.2'], fallback: '127.0.0.1' },
  { key: 'apiKey', flag: '--api-key', env: 'CY_API_KEY', values: ['flag', 'env', 'file'], parsed: ['flag', 'env'], fallback: undefined },
  { key: 'maxConcurrency', flag: '--max-concurrency', env: 'CY_MAX_CONCURRENCY', values: ['1', '2', 3], parsed: [1, 2], fallback: undefined },
  { key: 'maxQueue', flag: '--max-queue', env: 'CY_MAX_QUEUE', values: ['0', '5', 6], parsed: [0, 5], fallback: undefined },
  { key: 'timeoutMs', flag: '--timeout', env: 'CY_TIMEOUT', values: ['0', '20', 30], parsed: [0, 20], fallback: undefined },
  { key: 'queueTimeoutMs', flag: '--queue-timeout', env: 'CY_QUEUE_TIMEOUT', values: ['0', '20', 30], parsed: [0, 20], fallback: undefined },
  { key: 'firstTokenTimeoutMs', flag: '--first-token-timeout', env: 'CY_FIRST_TOKEN_TIMEOUT', values: ['0', '20', 30], parsed: [0, 20], fallback: undefined },
  { key: 'idleTimeoutMs', flag: '--stall-timeout', env: 'CY_STALL_TIMEOUT', values: ['0', '20', 30], parsed: [0, 20], fallback: undefined },
  { key: 'responsesRetentionDays', flag: '--responses-retention', env: 'CY_RESPONSES_RETENTION', values: ['1', '7', 90], parsed: [1, 7], fallback: undefined },
  { key: 'responsesDb', flag: '--responses-db', env: 'CY_RESPONSES_DB', values: ['/f.sqlite', '/e.sqlite', ':memory:'], parsed: ['/f.sqlite', '/e.sqlite'], fallback: './data/responses.sqlite' },
  { key: 'corsOrigins', flag: '--cors-origins', env: 'CY_CORS_ORIGINS', values: ['https://f.example', '*', ['https://c.example']], parsed: [['https://f.example'], '*'], fallback: undefined },
  { key: 'allowedHosts', flag: '--allowed-hosts', env: 'CY_ALLOWED_HOSTS', values: ['f.lan', 'e.lan,e2.lan', '*'], parsed: [['f.lan'], ['e.lan', 'e2.lan']], fallback: undefined },
  { key: 'readTimeoutSeconds', flag: '--read-timeout', env: 'CY_READ_TIMEOUT', values: ['0', '10', 20], parsed: [0, 10], fallback: undefined },
  { key: 'maxBodyBytes', flag: '--max-body-bytes', env: 'CY_MAX_BODY_BYTES', values: ['100', '200', 300], parsed: [100, 200], fallback: undefined },
  { key: 'maxUploadBytes', flag: '--max-upload-bytes', env: 'CY_MAX_UPLOAD_BYTES', values: ['100', '200', 300], parsed: [100, 200], fallback: undefined },
]

describe('one merge: flags > environment > config file > defaults', () => {
  for (const { key, flag, env, values, parsed, fallback } of KEYS) {
    test(`${key} (${flag}, ${env}, server.${key})`, async () => {
      const [flagValue, envValue, fileValue] = values
      const value = async (...args: Parameters<typeof merged>): Promise<unknown> => (await merged(...args))[key]
      expect(await value([flag, flagValue], { [env]: envValue }, { [key]: fileValue })).toEqual(parsed[0])
      expect(await value([], { [env]: envValue }, { [key]: fileValue })).toEqual(parsed[1])
      expect(await value([], {}, { [key]: fileValue })).toEqual(fileValue)
      expect(await value([], {}, undefined)).toEqual(fallback)
    })
  }

  test('modelsDir (--models, CY_MODELS_DIR, server.modelsDir: relative to the file): the flag wins over the file now', async () => {
    expect((await merged(['--models', '/flag-models'], { CY_MODELS_DIR: '/env-models' }, { modelsDir: './file-models' })).modelsDir).toBe('/flag-models')
    expect((await merged([], { CY_MODELS_DIR: '/env-models' }, { modelsDir: './file-models' })).modelsDir).toBe('/env-models')
    expect((await merged([], {}, { modelsDir: './file-models' })).modelsDir).toBe(join(dir, 'file-models'))
    expect((await merged([], {}, undefined)).modelsDir).toBe(DEFAULT_SETTINGS.modelsDir)
  })

  test('gateway: each setting from the flags, else the file', async () => {
    const settings = await merged(['--tool-validation', 'strict'], { CY_SESSION_TRACKING: 'zero_width' }, { gateway: { toolValidation: 'none', sanitize: false, sessionTracking: 'hash' } })
    expect(settings.gateway).toEqual({ toolValidation: 'strict', sanitize: false, sessionTracking: 'zero_width' })
  })

  test('a setting of the wrong type in the file is an error naming it, not a silent default', async () => {
    await expect(merged([], {}, { port: 'eighty' })).rejects.toThrow(ConfigError)
    await expect(merged([], {}, { port: 'eighty' })).rejects.toThrow('server.port')
    await expect(merged([], {}, { maxQueue: -1 })).rejects.toThrow('server.maxQueue')
    await expect(merged([], {}, { corsOrigins: 'https://a.example' })).rejects.toThrow('server.corsOrigins')
    await expect(merged([], {}, { gateway: { toolValidation: 'loose' } })).rejects.toThrow('server.gateway.toolValidation')
    await expect(merged([], {}, { gateway: { sanitize: 'no' } })).rejects.toThrow('server.gateway.sanitize')
    await expect(merged([], {}, { gateway: { toolValidaton: 'strict' } })).rejects.toThrow('not a gateway setting')
  })

  test('the library server gets them all, a 0 included', async () => {
    const options = serverOptions(await merged(['--max-queue', '0', '--timeout', '0', '--read-timeout', '0'], {}, { maxConcurrency: 2, host: '0.0.0.0' }))
    expect(options).toMatchObject({ maxQueue: 0, timeoutMs: 0, readTimeoutSeconds: 0, maxConcurrency: 2, hostname: '0.0.0.0' })
    expect(options).not.toHaveProperty('port')
  })
})
