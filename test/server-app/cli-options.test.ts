import { describe, expect, test } from 'bun:test'
import { parseCliOptions, UsageError } from '../../apps/server/src/cli-options.ts'

describe('server app options', () => {
  test('defaults', () => {
    expect(parseCliOptions([], {})).toEqual({ port: 8080, host: '0.0.0.0', modelsDir: './models', adapterPaths: [], quiet: false, gateway: {} })
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
      gateway: {},
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

  test('cluster flags: one mode at a time, with its settings from flags or environment', () => {
    expect(parseCliOptions(['--worker', '--master-host', '10.0.0.2', '--master-port', '9000', '--worker-id', 'gpu-2'], { CY_CLUSTER_SECRET: 's' })?.cluster).toEqual({
      mode: 'worker',
      masterHost: '10.0.0.2',
      masterPort: 9000,
      workerHost: '0.0.0.0',
      workerPort: 0,
      allowReplicas: false,
      secret: 's',
      workerId: 'gpu-2',
    })
    expect(parseCliOptions(['--master', '--allow-replicas'], {})?.cluster).toMatchObject({ mode: 'master', allowReplicas: true })
    expect(parseCliOptions(['--auto'], { CY_MASTER_PORT: '7000' })?.cluster).toMatchObject({ mode: 'auto', masterPort: 7000 })
    expect(parseCliOptions([], {})?.cluster).toBeUndefined()
    expect(() => parseCliOptions(['--master', '--worker'], {})).toThrow('--master and --worker cannot be combined')
    expect(() => parseCliOptions(['--master-port', '1'], {})).toThrow(UsageError)
  })

  test('gateway flags and the responses database', () => {
    const options = parseCliOptions(['--tool-validation', 'strict', '--session-concurrency', 'cancel_previous', '--responses-db', '/tmp/r.sqlite'], {
      CY_SESSION_TRACKING: 'zero_width',
      CY_INVALID_TOOL_CALLS: 'text',
    })
    expect(options?.gateway).toEqual({ toolValidation: 'strict', invalidToolCalls: 'text', sessionTracking: 'zero_width', sessionConcurrency: 'cancel_previous' })
    expect(options?.responsesDb).toBe('/tmp/r.sqlite')
    expect(() => parseCliOptions(['--tool-validation', 'paranoid'], {})).toThrow('--tool-validation must be one of none, relaxed, strict')
  })
})
