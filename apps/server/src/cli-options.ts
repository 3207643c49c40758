import { parseArgs } from 'node:util'
import type { AppOptions } from './app-options.ts'

export const USAGE = `Usage: bun run apps/server [options]

Options (flags win over environment variables):
  --port <n>              PORT             port to listen on (default 8080; 0 picks a free one)
  --host <addr>           HOST             address to bind (default 0.0.0.0)
  --config <file>         CY_CONFIG        JSON or YAML file naming models, adapters and options
  --models <dir>          CY_MODELS_DIR    folder of model files for installed adapters (default ./models)
  --api-key <key>         CY_API_KEY       require this key (Authorization: Bearer, or X-API-Key)
  --max-concurrency <n>   CY_MAX_CONCURRENCY  requests that run at once (default: no limit)
  --max-queue <n>         CY_MAX_QUEUE     requests that may wait before 429 (default 1024)
  --timeout <ms>          CY_TIMEOUT       per-request time limit in ms (default 600000; 0 for none)
  --adapter-path <dir>    CY_ADAPTER_PATHS extra folders holding adapter packages (repeatable; ':'-separated in env)
  --responses-db <file>   CY_RESPONSES_DB  SQLite file for stored responses (default ./data/responses.sqlite; :memory: for none)
  --tool-validation <m>   CY_TOOL_VALIDATION   none, relaxed or strict: how tool calls are checked (default none)
  --invalid-tool-calls <m> CY_INVALID_TOOL_CALLS discard or text: what becomes of an invalid call (default discard)
  --session-tracking <m>  CY_SESSION_TRACKING  hash or zero_width: how requests are tied to a conversation (default hash)
  --session-concurrency <m> CY_SESSION_CONCURRENCY off, reject or cancel_previous: a second request of a running session (default off)
  --quiet                                  no banner

Cluster mode (clients talk to the master only; workers register their models there):
  --master                                 serve the API on --port and the cluster protocol on --port + 1000
  --worker                                 join a master and register this machine's models there
  --auto                                   master if --port is free, else a worker of the master holding it
  --master-host <addr>    CY_MASTER_HOST   a worker's master (default 127.0.0.1)
  --master-port <n>       CY_MASTER_PORT   its API port or cluster port (default 8080)
  --cluster-secret <s>    CY_CLUSTER_SECRET shared by the master and its workers
  --worker-id <id>        CY_WORKER_ID     this worker's name (default: generated)
  --worker-host <addr>    CY_WORKER_HOST   where this worker listens for the master (default 0.0.0.0)
  --worker-port <n>       CY_WORKER_PORT   its port (default 0: a free one)
  --allow-replicas                         let several workers serve one model name (master)
  -h, --help                               this text`

export class UsageError extends Error {}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0) throw new UsageError(`${name} must be a non-negative integer, not '${value}'`)
  return parsed
}

function choice<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === '') return undefined
  if (!allowed.includes(value as T)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}, not '${value}'`)
  return value as T
}

/** Reads flags and environment; returns undefined when help was asked for. */
export function parseCliOptions(argv: string[], env: Record<string, string | undefined>): AppOptions | undefined {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        config: { type: 'string' },
        models: { type: 'string' },
        'api-key': { type: 'string' },
        'max-concurrency': { type: 'string' },
        'max-queue': { type: 'string' },
        timeout: { type: 'string' },
        'adapter-path': { type: 'string', multiple: true },
        quiet: { type: 'boolean' },
        'responses-db': { type: 'string' },
        'tool-validation': { type: 'string' },
        'invalid-tool-calls': { type: 'string' },
        'session-tracking': { type: 'string' },
        'session-concurrency': { type: 'string' },
        master: { type: 'boolean' },
        worker: { type: 'boolean' },
        auto: { type: 'boolean' },
        'master-host': { type: 'string' },
        'master-port': { type: 'string' },
        'cluster-secret': { type: 'string' },
        'worker-id': { type: 'string' },
        'worker-host': { type: 'string' },
        'worker-port': { type: 'string' },
        'allow-replicas': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }))
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (values.help) return undefined
  const options: AppOptions = {
    port: integer('--port', values.port ?? env.PORT) ?? 8080,
    host: values.host ?? env.HOST ?? '0.0.0.0',
    modelsDir: values.models ?? env.CY_MODELS_DIR ?? './models',
    adapterPaths: [...(values['adapter-path'] ?? []), ...(env.CY_ADAPTER_PATHS?.split(':').filter(Boolean) ?? [])],
    quiet: values.quiet ?? false,
    gateway: {},
  }
  const responsesDb = values['responses-db'] ?? env.CY_RESPONSES_DB
  if (responsesDb) options.responsesDb = responsesDb
  const toolValidation = choice('--tool-validation', values['tool-validation'] ?? env.CY_TOOL_VALIDATION, ['none', 'relaxed', 'strict'] as const)
  if (toolValidation) options.gateway.toolValidation = toolValidation
  const invalid = choice('--invalid-tool-calls', values['invalid-tool-calls'] ?? env.CY_INVALID_TOOL_CALLS, ['discard', 'text'] as const)
  if (invalid) options.gateway.invalidToolCalls = invalid
  const tracking = choice('--session-tracking', values['session-tracking'] ?? env.CY_SESSION_TRACKING, ['hash', 'zero_width'] as const)
  if (tracking) options.gateway.sessionTracking = tracking
  const concurrency = choice('--session-concurrency', values['session-concurrency'] ?? env.CY_SESSION_CONCURRENCY, ['off', 'reject', 'cancel_previous'] as const)
  if (concurrency) options.gateway.sessionConcurrency = concurrency
  const configPath = values.config ?? env.CY_CONFIG
  if (configPath) options.configPath = configPath
  const apiKey = values['api-key'] ?? env.CY_API_KEY
  if (apiKey) options.apiKey = apiKey
  const maxConcurrency = integer('--max-concurrency', values['max-concurrency'] ?? env.CY_MAX_CONCURRENCY)
  if (maxConcurrency !== undefined) options.maxConcurrency = maxConcurrency
  const maxQueue = integer('--max-queue', values['max-queue'] ?? env.CY_MAX_QUEUE)
  if (maxQueue !== undefined) options.maxQueue = maxQueue
  const timeoutMs = integer('--timeout', values.timeout ?? env.CY_TIMEOUT)
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs
  const modes = (['master', 'worker', 'auto'] as const).filter((mode) => values[mode])
  if (modes.length > 1) throw new UsageError(`--${modes.join(' and --')} cannot be combined`)
  if (modes[0]) {
    const secret = values['cluster-secret'] ?? env.CY_CLUSTER_SECRET
    const workerId = values['worker-id'] ?? env.CY_WORKER_ID
    options.cluster = {
      mode: modes[0],
      masterHost: values['master-host'] ?? env.CY_MASTER_HOST ?? '127.0.0.1',
      masterPort: integer('--master-port', values['master-port'] ?? env.CY_MASTER_PORT) ?? 8080,
      workerHost: values['worker-host'] ?? env.CY_WORKER_HOST ?? '0.0.0.0',
      workerPort: integer('--worker-port', values['worker-port'] ?? env.CY_WORKER_PORT) ?? 0,
      allowReplicas: values['allow-replicas'] ?? false,
      ...(secret ? { secret } : {}),
      ...(workerId ? { workerId } : {}),
    }
  } else if (values['master-host'] || values['master-port'] || values['allow-replicas']) {
    throw new UsageError('--master-host, --master-port and --allow-replicas need --master, --worker or --auto')
  }
  return options
}
