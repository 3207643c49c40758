import type { ModelInfo } from '@cy/core'
import { t } from 'elysia'

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined)
const integer = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) ? value : null)

/**
 * The engine API's capabilities: `inference` and `stream` for a model that serves completions (what
 * `/api/v1/inference` runs), then the model's own capabilities (`chat`, `embedding`, ...).
 */
function capabilities(info: ModelInfo): string[] {
  return [...(info.capabilities.includes('completion') ? ['inference', 'stream'] : []), ...info.capabilities]
}

function loraAdapters(info: ModelInfo): string[] | undefined {
  const listed = info.metadata.loraAdapters
  return Array.isArray(listed) ? listed.filter((name): name is string => typeof name === 'string') : undefined
}

/** A model in `GET /api/v1/models`: the seed's fields, from the registry's own facts. */
export function engineModel(info: ModelInfo) {
  const { metadata } = info
  const adapters = loraAdapters(info)
  return {
    id: info.id,
    name: text(metadata.displayName) ?? text(metadata.name) ?? info.id,
    engine: text(metadata.engine) ?? text(metadata.adapter) ?? info.ownedBy,
    status: info.status.state,
    capabilities: capabilities(info),
    maxModelLen: integer(metadata.contextSize ?? metadata.contextLength),
    ...(adapters ? { loraAdapters: adapters } : {}),
  }
}

/** `GET /api/v1/models/{modelId}`: the list's fields, the model's file, and its serving configuration. */
export function engineModelDetails(info: ModelInfo) {
  const model = engineModel(info)
  const { metadata } = info
  const config: Record<string, unknown> = { maxModelLen: model.maxModelLen }
  if (text(metadata.adapter)) config.adapter = metadata.adapter
  for (const key of ['parallel', 'sizeBytes', 'vision'] as const) if (typeof metadata[key] === 'number' || typeof metadata[key] === 'boolean') config[key] = metadata[key]
  return { ...model, modelPath: text(metadata.path) ?? null, ...(info.status.reason ? { reason: info.status.reason } : {}), config }
}

const ModelState = t.Union([t.Literal('loading'), t.Literal('ready'), t.Literal('unloading'), t.Literal('unloaded'), t.Literal('failed')])

const modelFields = {
  id: t.String(),
  name: t.String(),
  engine: t.String({ description: 'The engine serving it (`llama.cpp`), else its adapter.' }),
  status: ModelState,
  capabilities: t.Array(t.String(), { description: '`inference` and `stream` when `/api/v1/inference` can run it, then its own capabilities (`chat`, `completion`, `embedding`...).' }),
  maxModelLen: t.Union([t.Integer(), t.Null()], { description: 'Its context size in tokens, once known.' }),
  loraAdapters: t.Optional(t.Array(t.String(), { description: 'LoRA adapters `adapter` may name.' })),
}

export const EngineModel = t.Object(modelFields, { description: 'A model, in the engine API\'s shape.' })

export const EngineModelList = t.Object({ models: t.Array(EngineModel) }, { description: 'Every model this server has.' })

export const EngineModelDetails = t.Object(
  {
    ...modelFields,
    modelPath: t.Union([t.String(), t.Null()], { description: 'Its file (null for a model the program registered).' }),
    reason: t.Optional(t.String({ description: 'Why it failed or is unloaded.' })),
    config: t.Object({ maxModelLen: t.Union([t.Integer(), t.Null()]) }, { additionalProperties: true }),
  },
  { description: 'A model with its file and configuration.' },
)
