import { describe, expect, test } from 'bun:test'
import { serverOptions } from '../../apps/server/src/app.ts'
import { parseCliOptions } from '../../apps/server/src/cli-options.ts'
import { resolveSettings } from '../../apps/server/src/server-settings.ts'

// The engine API's settings (issue 16): the seed's environment names, the default model, the tenants.
const parse = (argv: string[], env: Record<string, string> = {}) => parseCliOptions(argv, env)!

describe('the seed environment names', () => {
  test('CY_LLM_API_KEY, then GATEWAY_API_TOKEN, are the API key when CY_API_KEY is unset', () => {
    expect(parse([], { CY_LLM_API_KEY: 'engine' }).apiKey).toBe('engine')
    expect(parse([], { GATEWAY_API_TOKEN: 'lite' }).apiKey).toBe('lite')
    expect(parse([], { CY_LLM_API_KEY: 'engine', GATEWAY_API_TOKEN: 'lite' }).apiKey).toBe('engine')
    expect(parse([], { CY_API_KEY: 'cy', CY_LLM_API_KEY: 'engine' }).apiKey).toBe('cy')
    expect(parse(['--api-key', 'flag'], { CY_LLM_API_KEY: 'engine' }).apiKey).toBe('flag')
  })

  test('CY_LLM_INTERNAL_TOKEN is the cluster secret when CY_CLUSTER_SECRET is unset', () => {
    expect(parse(['--master'], { CY_LLM_INTERNAL_TOKEN: 'internal' }).cluster?.secret).toBe('internal')
    expect(parse(['--master'], { CY_LLM_INTERNAL_TOKEN: 'internal', CY_CLUSTER_SECRET: 'cy' }).cluster?.secret).toBe('cy')
  })
})

describe('--default-model and server.tenants', () => {
  test('--default-model, CY_DEFAULT_MODEL or server.defaultModel reach the server options', () => {
    expect(serverOptions(resolveSettings(parse(['--default-model', 'qwen']))).defaultModel).toBe('qwen')
    expect(serverOptions(resolveSettings(parse([], { CY_DEFAULT_MODEL: 'env' }))).defaultModel).toBe('env')
    expect(serverOptions(resolveSettings(parse([]), { defaultModel: 'file' })).defaultModel).toBe('file')
    expect(serverOptions(resolveSettings(parse(['--default-model', 'flag']), { defaultModel: 'file' })).defaultModel).toBe('flag')
  })

  test('server.tenants reach the server options; a wrong one is an error naming it', () => {
    const tenants = { 'tenant-123': { maxConcurrency: 2 }, free: {} }
    expect(serverOptions(resolveSettings(parse([]), { tenants })).tenants).toEqual(tenants)
    expect(() => resolveSettings(parse([]), { tenants: { a: { maxConcurrency: -1 } } })).toThrow('server.tenants.a.maxConcurrency')
    expect(() => resolveSettings(parse([]), { tenants: { a: { limit: 1 } } })).toThrow('server.tenants.a.limit')
    expect(() => resolveSettings(parse([]), { tenants: ['a'] })).toThrow('server.tenants')
  })
})
