import { describe, expect, test } from 'bun:test'
import { parseCliOptions, UsageError } from '../../apps/server/src/cli-options.ts'

describe('server app options', () => {
  test('defaults', () => {
    expect(parseCliOptions([], {})).toEqual({ port: 8080, host: '0.0.0.0', modelsDir: './models', adapterPaths: [], quiet: false })
  })

  test('environment variables', () => {
    const options = parseCliOptions([], {
      PORT: '9000',
      HOST: '127.0.0.1',
      CY_CONFIG: 'cy.yaml',
      CY_MODELS_DIR: '/models',
      CY_API_KEY: 'k',
      CY_MAX_CONCURRENCY: '4',
      CY_MAX_QUEUE: '16',
      CY_TIMEOUT: '1000',
      CY_ADAPTER_PATHS: '/a:/b',
    })
    expect(options).toEqual({
      port: 9000,
      host: '127.0.0.1',
      configPath: 'cy.yaml',
      modelsDir: '/models',
      apiKey: 'k',
      maxConcurrency: 4,
      maxQueue: 16,
      timeoutMs: 1000,
      adapterPaths: ['/a', '/b'],
      quiet: false,
    })
  })

  test('flags win over the environment', () => {
    const options = parseCliOptions(['--port', '1234', '--models', 'here', '--api-key', 'flag', '--timeout', '0', '--quiet'], { PORT: '9000', CY_API_KEY: 'env' })
    expect(options).toMatchObject({ port: 1234, modelsDir: 'here', apiKey: 'flag', timeoutMs: 0, quiet: true })
  })

  test('help returns nothing to run; bad input is a usage error', () => {
    expect(parseCliOptions(['--help'], {})).toBeUndefined()
    expect(() => parseCliOptions(['--port', 'eighty'], {})).toThrow(UsageError)
    expect(() => parseCliOptions(['--no-such-flag'], {})).toThrow(UsageError)
    expect(() => parseCliOptions([], { CY_MAX_CONCURRENCY: '-1' })).toThrow(UsageError)
  })
})
