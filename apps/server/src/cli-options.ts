import { parseArgs } from 'node:util'
import { LOG_LEVELS } from '@cy/http'
import type { AppOptions } from './app-options.ts'

export const USAGE = `Usage: bun run apps/server [options]

       bun run apps/server pull <id | org/repo[:file or quant]>   download a model into the Hugging Face cache

Options (flags win over environment variables, which win over the config file's server section):
  --port <n>              PORT             port to listen on (default 8080; 0 picks a free one)
  --host <addr>           HOST             address to bind (default 127.0.0.1: this machine only; 0.0.0.0 for every interface)
  --grpc-port <n>         CY_GRPC_PORT     also serve the gRPC API (AIService.StreamPredict, TrainingService, health, reflection) on this port
                                           of the same host (default: off; 0 picks a free one)
  --config <file>         CY_CONFIG        JSON or YAML file naming models, adapters and options
  --models <dir>          CY_MODELS_DIR    folder of model files for installed adapters (default ./models)
  --api-key <key>         CY_API_KEY       require this key (Authorization: Bearer, or X-API-Key) on /v1 and /api/v1 alike;
                                           CY_LLM_API_KEY, then GATEWAY_API_TOKEN (the seed's names) when CY_API_KEY is unset
  --default-model <name>  CY_DEFAULT_MODEL the model a /v1/chat/completions request without model (or with "default")
                                           goes to (default: the only chat model, if there is one)
  --max-concurrency <n>   CY_MAX_CONCURRENCY  requests that run at once (default: no limit)
  --max-queue <n>         CY_MAX_QUEUE     requests that may wait before 429 (default 1024; 0: none wait, 429 at once when all slots are busy)
  --timeout <ms>          CY_TIMEOUT       each phase's limit (queue, first output, silence between outputs) unless set below
  --queue-timeout <ms>    CY_QUEUE_TIMEOUT how long a request may wait for a slot (default 300000): past it, 503 with Retry-After
  --first-token-timeout <ms> CY_FIRST_TOKEN_TIMEOUT how long a model may take to its first output (default 600000): 504
  --stall-timeout <ms>    CY_STALL_TIMEOUT how long a model may stay silent between outputs (default 120000); a stream that
                                           keeps producing is never cut off
  --cors-origins <list>   CY_CORS_ORIGINS  browser origins allowed besides pages on loopback (comma-separated, or *)
  --allowed-hosts <list>  CY_ALLOWED_HOSTS Host names answered besides the loopback ones (comma-separated, or *;
                                           default: loopback names when bound to loopback, any otherwise)
  --read-timeout <s>      CY_READ_TIMEOUT  seconds a connection may stay silent while its request is read (default 30; 0 for none)
  --max-body-bytes <n>    CY_MAX_BODY_BYTES   largest JSON body (default 33554432, 32 MiB)
  --max-upload-bytes <n>  CY_MAX_UPLOAD_BYTES largest audio upload (default 104857600, 100 MiB; a model declaring more raises it)
  --adapter-path <dir>    CY_ADAPTER_PATHS extra folders holding adapter packages (repeatable; ':'-separated in env)
  --catalog <file>        CY_CATALOG       the model catalog YAML (default: apps/server/catalog/models.yaml)
  --pull <id>                              download a catalog model (or org/repo[:file or quant]) before serving (repeatable)
  --allowed-media-dir <dir> CY_ALLOWED_MEDIA_DIRS a folder whose images chat requests may name by path (/abs/x.png or
                                           file://; repeatable; ':'-separated in env; default none: paths are refused)
  --allow-private-media-urls CY_ALLOW_PRIVATE_MEDIA_URLS=1 let image URLs reach loopback, private and link-local
                                           addresses (default: refused, against SSRF)
  --no-media-urls         CY_NO_MEDIA_URLS=1 refuse http(s) image URLs (data URIs and allowed paths only)
  --max-media-bytes <n>   CY_MAX_MEDIA_BYTES largest image a request may send or name (default 20971520, 20 MiB)
  --media-timeout <ms>    CY_MEDIA_TIMEOUT how long fetching an image URL may take (default 15000; 0 for none)
  --training-dir <dir>    CY_TRAINING_DIR  training jobs' folder: jobs.sqlite, datasets/, output/, and adapters/<model>/
                                           where a served model's trained adapters go (default ./data/training)
  --training-data-dir <dir> CY_TRAINING_DATA_DIRS a folder datasetPath (or a baseModel path) may name (repeatable;
                                           ':'-separated in env; default <training-dir>/datasets)
  --training-output-dir <dir> CY_TRAINING_OUTPUT_DIRS a folder outputDir must be inside (repeatable; default <training-dir>/output)
  --training-threads <n>  CY_TRAINING_THREADS a training job's CPU threads when its request names none (default: every core)
  --no-training           CY_NO_TRAINING=1 turn the training API off
  --responses-db <file>   CY_RESPONSES_DB  SQLite file for stored responses (default ./data/responses.sqlite; :memory: for none)
  --responses-retention <days> CY_RESPONSES_RETENTION days a stored response is kept after its conversation's last turn (default 30)
  --tool-validation <m>   CY_TOOL_VALIDATION   none, relaxed or strict: how tool calls are checked (default relaxed)
  --invalid-tool-calls <m> CY_INVALID_TOOL_CALLS discard or text: what becomes of an invalid call (default discard)
  --session-tracking <m>  CY_SESSION_TRACKING  hash or zero_width: how requests are tied to a conversation (default hash)
  --session-concurrency <m> CY_SESSION_CONCURRENCY off, reject or cancel_previous: a second request of a running session (default off)
  --drain-timeout <ms>    CY_DRAIN_TIMEOUT how long a stop (SIGTERM, SIGINT) lets requests in flight finish before it ends them
                                           with an error (default 30000); a second signal exits at once
  --shutdown-timeout <ms> CY_SHUTDOWN_TIMEOUT after the drain, the longest freeing the engines may take before the process
                                           exits anyway (default 10000)
  --max-loaded-models <n> CY_MAX_LOADED_MODELS models loaded at once (default: no limit); the least recently used idle one
                                           is unloaded to make room, and a load with every model busy gets 503
  --max-memory <bytes>    CY_MAX_MEMORY    model file bytes loaded at once, the same way (a number, or with K, M, G, T: 8G)
  --log-level <level>     CY_LOG_LEVEL     fatal, error, warn, info, debug, trace or silent (default info: a line per request);
                                           text on a terminal, JSON lines otherwise
  --metrics-public        CY_METRICS_PUBLIC=1 serve /metrics (Prometheus) without the API key
  --quiet                                  no banner

Cluster mode (clients talk to the master only; workers register their models there):
  --master                                 serve the API on --port and the cluster protocol on --port + 1000
  --worker                                 join a master and register this machine's models there
  --auto                                   master if --port is free, else a worker of the master holding it
  --master-host <addr>    CY_MASTER_HOST   a worker's master (default 127.0.0.1)
  --master-port <n>       CY_MASTER_PORT   its API port or cluster port (default 8080)
  --cluster-secret <s>    CY_CLUSTER_SECRET shared by the master and its workers (CY_LLM_INTERNAL_TOKEN when unset)
  --worker-id <id>        CY_WORKER_ID     this worker's name (default: generated)
  --worker-host <addr>    CY_WORKER_HOST   where this worker listens for the master (default 127.0.0.1; another address needs a secret)
  --worker-port <n>       CY_WORKER_PORT   its port (default 0: a free one)
  --allow-replicas                         let several workers serve one model name (master)
  -h, --help                               this text`

export class UsageError extends Error {}

/** After the drain, how long freeing the engines may take before the process exits anyway. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000
/** How long a stop lets requests in flight finish. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000

const BYTE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }

/** Bytes, as a number or with a binary unit (`8G`, `512MiB`). */
function bytes(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(value.trim())
  if (!match) throw new UsageError(`${name} must be a number of bytes, optionally with K, M, G or T (8G), not '${value}'`)
  return Math.floor(Number(match[1]) * BYTE_UNITS[match[2]!.toUpperCase()]!)
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0) throw new UsageError(`${name} must be a non-negative integer, not '${value}'`)
  return parsed
}

/** `*`, or a comma-separated list. */
function list(value: string | undefined): '*' | string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined
  if (value.trim() === '*') return '*'
  return value.split(',').map((entry) => entry.trim()).filter(Boolean)
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
        'grpc-port': { type: 'string' },
        config: { type: 'string' },
        models: { type: 'string' },
        'api-key': { type: 'string' },
        'default-model': { type: 'string' },
        'max-concurrency': { type: 'string' },
        'max-queue': { type: 'string' },
        timeout: { type: 'string' },
        'queue-timeout': { type: 'string' },
        'first-token-timeout': { type: 'string' },
        'stall-timeout': { type: 'string' },
        'responses-retention': { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        'drain-timeout': { type: 'string' },
        'max-loaded-models': { type: 'string' },
        'max-memory': { type: 'string' },
        'cors-origins': { type: 'string' },
        'allowed-hosts': { type: 'string' },
        'read-timeout': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'max-upload-bytes': { type: 'string' },
        'adapter-path': { type: 'string', multiple: true },
        catalog: { type: 'string' },
        pull: { type: 'string', multiple: true },
        'allowed-media-dir': { type: 'string', multiple: true },
        'allow-private-media-urls': { type: 'boolean' },
        'no-media-urls': { type: 'boolean' },
        'max-media-bytes': { type: 'string' },
        'media-timeout': { type: 'string' },
        quiet: { type: 'boolean' },
        'log-level': { type: 'string' },
        'metrics-public': { type: 'boolean' },
        'responses-db': { type: 'string' },
        'training-dir': { type: 'string' },
        'training-data-dir': { type: 'string', multiple: true },
        'training-output-dir': { type: 'string', multiple: true },
        'training-threads': { type: 'string' },
        'no-training': { type: 'boolean' },
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
  // Only what flags or environment set: the config file and the defaults come after (resolveSettings).
  const options: AppOptions = {
    adapterPaths: [...(values['adapter-path'] ?? []), ...(env.CY_ADAPTER_PATHS?.split(':').filter(Boolean) ?? [])],
    quiet: values.quiet ?? false,
  }
  const set = <K extends keyof AppOptions>(key: K, value: AppOptions[K] | undefined) => {
    if (value !== undefined && value !== '') options[key] = value
  }
  set('port', integer('--port', values.port ?? env.PORT))
  set('host', values.host ?? env.HOST)
  set('grpcPort', integer('--grpc-port', values['grpc-port'] ?? env.CY_GRPC_PORT))
  set('modelsDir', values.models ?? env.CY_MODELS_DIR)
  set('responsesDb', values['responses-db'] ?? env.CY_RESPONSES_DB)
  set('corsOrigins', list(values['cors-origins'] ?? env.CY_CORS_ORIGINS))
  set('allowedHosts', list(values['allowed-hosts'] ?? env.CY_ALLOWED_HOSTS))
  set('readTimeoutSeconds', integer('--read-timeout', values['read-timeout'] ?? env.CY_READ_TIMEOUT))
  set('maxBodyBytes', integer('--max-body-bytes', values['max-body-bytes'] ?? env.CY_MAX_BODY_BYTES))
  set('maxUploadBytes', integer('--max-upload-bytes', values['max-upload-bytes'] ?? env.CY_MAX_UPLOAD_BYTES))
  const gateway: NonNullable<AppOptions['gateway']> = {}
  const toolValidation = choice('--tool-validation', values['tool-validation'] ?? env.CY_TOOL_VALIDATION, ['none', 'relaxed', 'strict'] as const)
  if (toolValidation) gateway.toolValidation = toolValidation
  const invalid = choice('--invalid-tool-calls', values['invalid-tool-calls'] ?? env.CY_INVALID_TOOL_CALLS, ['discard', 'text'] as const)
  if (invalid) gateway.invalidToolCalls = invalid
  const tracking = choice('--session-tracking', values['session-tracking'] ?? env.CY_SESSION_TRACKING, ['hash', 'zero_width'] as const)
  if (tracking) gateway.sessionTracking = tracking
  const concurrency = choice('--session-concurrency', values['session-concurrency'] ?? env.CY_SESSION_CONCURRENCY, ['off', 'reject', 'cancel_previous'] as const)
  if (concurrency) gateway.sessionConcurrency = concurrency
  if (Object.keys(gateway).length > 0) options.gateway = gateway
  const media: NonNullable<AppOptions['media']> = {}
  const mediaDirs = [...(values['allowed-media-dir'] ?? []), ...(env.CY_ALLOWED_MEDIA_DIRS?.split(':').filter(Boolean) ?? [])]
  if (mediaDirs.length > 0) media.allowedDirs = mediaDirs
  if (values['allow-private-media-urls'] || ['1', 'true'].includes(env.CY_ALLOW_PRIVATE_MEDIA_URLS ?? '')) media.allowPrivateUrls = true
  if (values['no-media-urls'] || ['1', 'true'].includes(env.CY_NO_MEDIA_URLS ?? '')) media.remote = false
  const maxMediaBytes = integer('--max-media-bytes', values['max-media-bytes'] ?? env.CY_MAX_MEDIA_BYTES)
  if (maxMediaBytes !== undefined) media.maxBytes = maxMediaBytes
  const mediaTimeout = integer('--media-timeout', values['media-timeout'] ?? env.CY_MEDIA_TIMEOUT)
  if (mediaTimeout !== undefined) media.timeoutMs = mediaTimeout
  if (Object.keys(media).length > 0) options.media = media
  const training: NonNullable<AppOptions['training']> = {}
  if (values['no-training'] || ['1', 'true'].includes(env.CY_NO_TRAINING ?? '')) training.off = true
  const trainingDir = values['training-dir'] ?? env.CY_TRAINING_DIR
  if (trainingDir) training.dir = trainingDir
  const dataDirs = [...(values['training-data-dir'] ?? []), ...(env.CY_TRAINING_DATA_DIRS?.split(':').filter(Boolean) ?? [])]
  if (dataDirs.length > 0) training.dataDirs = dataDirs
  const outputDirs = [...(values['training-output-dir'] ?? []), ...(env.CY_TRAINING_OUTPUT_DIRS?.split(':').filter(Boolean) ?? [])]
  if (outputDirs.length > 0) training.outputDirs = outputDirs
  const trainingThreads = integer('--training-threads', values['training-threads'] ?? env.CY_TRAINING_THREADS)
  if (trainingThreads) training.threads = trainingThreads
  if (Object.keys(training).length > 0) options.training = training
  set('configPath', values.config ?? env.CY_CONFIG)
  set('catalogPath', values.catalog ?? env.CY_CATALOG)
  if (values.pull?.length) options.pull = values.pull
  // The seed's names of the key: CY_LLM_API_KEY (its engine API), GATEWAY_API_TOKEN (its Lite mode); one key here.
  set('apiKey', values['api-key'] ?? env.CY_API_KEY ?? env.CY_LLM_API_KEY ?? env.GATEWAY_API_TOKEN)
  set('defaultModel', values['default-model'] ?? env.CY_DEFAULT_MODEL)
  set('maxConcurrency', integer('--max-concurrency', values['max-concurrency'] ?? env.CY_MAX_CONCURRENCY))
  set('maxQueue', integer('--max-queue', values['max-queue'] ?? env.CY_MAX_QUEUE))
  set('timeoutMs', integer('--timeout', values.timeout ?? env.CY_TIMEOUT))
  set('queueTimeoutMs', integer('--queue-timeout', values['queue-timeout'] ?? env.CY_QUEUE_TIMEOUT))
  set('firstTokenTimeoutMs', integer('--first-token-timeout', values['first-token-timeout'] ?? env.CY_FIRST_TOKEN_TIMEOUT))
  set('idleTimeoutMs', integer('--stall-timeout', values['stall-timeout'] ?? env.CY_STALL_TIMEOUT))
  set('shutdownTimeoutMs', integer('--shutdown-timeout', values['shutdown-timeout'] ?? env.CY_SHUTDOWN_TIMEOUT))
  set('drainTimeoutMs', integer('--drain-timeout', values['drain-timeout'] ?? env.CY_DRAIN_TIMEOUT))
  set('maxLoadedModels', integer('--max-loaded-models', values['max-loaded-models'] ?? env.CY_MAX_LOADED_MODELS))
  set('maxMemoryBytes', bytes('--max-memory', values['max-memory'] ?? env.CY_MAX_MEMORY))
  set('logLevel', choice('--log-level', values['log-level'] ?? env.CY_LOG_LEVEL, LOG_LEVELS))
  if (values['metrics-public'] || ['1', 'true'].includes(env.CY_METRICS_PUBLIC ?? '')) options.metricsPublic = true
  set('responsesRetentionDays', integer('--responses-retention', values['responses-retention'] ?? env.CY_RESPONSES_RETENTION))
  const modes = (['master', 'worker', 'auto'] as const).filter((mode) => values[mode])
  if (modes.length > 1) throw new UsageError(`--${modes.join(' and --')} cannot be combined`)
  if (modes[0]) {
    const secret = values['cluster-secret'] ?? env.CY_CLUSTER_SECRET ?? env.CY_LLM_INTERNAL_TOKEN
    const workerId = values['worker-id'] ?? env.CY_WORKER_ID
    options.cluster = {
      mode: modes[0],
      masterHost: values['master-host'] ?? env.CY_MASTER_HOST ?? '127.0.0.1',
      masterPort: integer('--master-port', values['master-port'] ?? env.CY_MASTER_PORT) ?? 8080,
      workerHost: values['worker-host'] ?? env.CY_WORKER_HOST ?? '127.0.0.1',
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
