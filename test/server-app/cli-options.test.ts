import { describe, expect, test } from 'bun:test'
import { parseCliOptions, UsageError } from '../../apps/server/src/cli-options.ts'

describe('server app options', () => {
  test('nothing given: nothing set (the config file and the defaults come after, in resolveSettings)', () => {
    expect(parseCliOptions([], {})).toEqual({ adapterPaths: [], quiet: false })
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
      CY_CORS_ORIGINS: 'https://a.example, https://b.example',
      CY_ALLOWED_HOSTS: '*',
      CY_READ_TIMEOUT: '45',
      CY_MAX_BODY_BYTES: '1000',
      CY_MAX_UPLOAD_BYTES: '2000',
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
      corsOrigins: ['https://a.example', 'https://b.example'],
      allowedHosts: '*',
      readTimeoutSeconds: 45,
      maxBodyBytes: 1000,
      maxUploadBytes: 2000,
    })
  })

  test('--max-queue 0 is 0 (no waiting), not "unset"', () => {
    expect(parseCliOptions(['--max-queue', '0'], {})?.maxQueue).toBe(0)
    expect(parseCliOptions([], { CY_MAX_QUEUE: '0' })?.maxQueue).toBe(0)
  })

  test('the new security flags', () => {
    expect(parseCliOptions(['--cors-origins', '*', '--allowed-hosts', 'cy.lan,gpu.lan', '--read-timeout', '0', '--host', '0.0.0.0'], {})).toMatchObject({
      corsOrigins: '*',
      allowedHosts: ['cy.lan', 'gpu.lan'],
      readTimeoutSeconds: 0,
      host: '0.0.0.0',
    })
    expect(() => parseCliOptions(['--read-timeout', 'soon'], {})).toThrow('--read-timeout must be a non-negative integer')
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
      workerHost: '127.0.0.1',
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

  test('training flags: folders (repeatable, or from the environment), threads, and off', () => {
    expect(parseCliOptions(['--training-dir', '/t', '--training-data-dir', '/d1', '--training-data-dir', '/d2', '--training-output-dir', '/o', '--training-threads', '3'], {})!.training).toEqual({
      dir: '/t',
      dataDirs: ['/d1', '/d2'],
      outputDirs: ['/o'],
      threads: 3,
    })
    expect(parseCliOptions([], { CY_TRAINING_DATA_DIRS: '/a:/b', CY_TRAINING_OUTPUT_DIRS: '/c', CY_NO_TRAINING: '1' })!.training).toEqual({ off: true, dataDirs: ['/a', '/b'], outputDirs: ['/c'] })
    expect(() => parseCliOptions(['--training-threads', 'many'], {})).toThrow(UsageError)
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
