import { BadRequestError, type ModelConfig, type TrainingRequest } from '@cy/core'
import { readGguf, withFile } from '@cy/native'
import { availableParallelism } from 'node:os'
import { basename, resolve } from 'node:path'
import { ADAPTER_NAME } from '../../lora/adapter-folder.ts'
import { isInside, resolveAllowedFile } from '../dataset-path.ts'
import { nonF32Type } from '../f32-model.ts'
import { parseLlamaOptions } from '../../llama-options.ts'
import { TARGET_MODULES } from '../target-modules.ts'
import { describeType } from '../tensor-values.ts'
import { checkDataset } from './dataset-check.ts'
import type { TrainingEngineSpec } from './training-engine-protocol.ts'

/** The seed's defaults, except evalSplit (ours). */
const HYPER_PARAM_DEFAULTS = {
  batchSize: 4,
  learningRate: 2e-4,
  epochs: 3,
  maxSeqLength: 2048,
  loraRank: 64,
  loraAlpha: 16,
  saveSteps: 100,
  evalSteps: 100,
  evalSplit: 0,
}
const HYPER_PARAMS = new Set([...Object.keys(HYPER_PARAM_DEFAULTS), 'loraDropout'])
const LORA_KEYS = new Set(['r', 'loraAlpha', 'loraDropout', 'targetModules', 'bias'])
const BIASES = new Set(['none', 'all', 'lora_only'])
const CONTEXT_STEP = 256
/** The longest window a job may ask for: its activations and their gradients grow with it. */
const MAX_WINDOW = 32_768

/** Where a job's inputs may come from and its outputs go. */
export interface TrainingRequestContext {
  allowedOutputDirs: readonly string[]
  /** Folders a datasetPath, or a baseModel given as a path, must be inside. */
  allowedDataDirs: readonly string[]
  defaultThreads: number
  /** A served model's config by name: a baseModel given as an id. */
  resolveModel?: (name: string) => ModelConfig | undefined
  modelNames?: () => string[]
}

export type ResolvedTraining = Omit<TrainingEngineSpec, 'libDir' | 'cancelPath' | 'pausePath' | 'progressIntervalMs'> & {
  warnings: string[]
  /** The served model trained, and its adapters folder (where the adapter is published when the job completes). */
  served?: { model: string; loraDir?: string }
}

const invalid = (param: string, message: string) => new BadRequestError(message, { param, code: 'invalid_request' })

function check(param: string, value: unknown, ok: (value: number) => boolean, what: string): void {
  if (value !== undefined && !(typeof value === 'number' && ok(value))) throw invalid(param, `${param} must be ${what}, not ${JSON.stringify(value)}`)
}
const positiveInt = (value: number) => Number.isInteger(value) && value > 0
const positive = (value: number) => Number.isFinite(value) && value > 0
const fraction = (value: number) => value >= 0 && value < 1

function unknownKeys(param: string, value: object | undefined, known: Set<string>): void {
  const extra = Object.keys(value ?? {}).filter((key) => !known.has(key))
  if (extra.length) throw invalid(`${param}.${extra[0]}`, `${param}.${extra[0]} is not a parameter training takes (it takes ${[...known].join(', ')})`)
}

/** A request checked and filled with defaults, or a 400 naming the field. Folders are absolute. */
export async function resolveTrainingRequest(request: TrainingRequest, context: TrainingRequestContext): Promise<ResolvedTraining> {
  const { hyperParams = {}, loraConfig } = request
  const base = await resolveBaseModel(request.baseModel, context)
  const index = await withFile(base.path, readGguf).catch(() => undefined)
  if (!index) throw invalid('baseModel', `${base.path} is not a GGUF model`)
  const weights = nonF32Type(index)

  if (typeof request.outputDir !== 'string' || !request.outputDir) throw invalid('outputDir', 'outputDir is required')
  const outputDir = resolve(request.outputDir)
  const inside = context.allowedOutputDirs.some((folder) => isInside(resolve(folder), outputDir))
  if (!inside) throw invalid('outputDir', `outputDir ${outputDir} is not inside an allowed output folder (${context.allowedOutputDirs.join(', ') || 'none configured'})`)
  if (!ADAPTER_NAME.test(basename(outputDir)))
    throw invalid('outputDir', `outputDir's last part names the adapter at inference, so it must be letters, digits, '.', '_' or '-' (not ${JSON.stringify(basename(outputDir))})`)

  unknownKeys('hyperParams', hyperParams, HYPER_PARAMS)
  unknownKeys('loraConfig', loraConfig, LORA_KEYS)
  for (const key of ['batchSize', 'epochs', 'saveSteps', 'evalSteps', 'loraRank'] as const) check(`hyperParams.${key}`, hyperParams[key], positiveInt, 'a positive integer')
  check(
    'hyperParams.maxSeqLength',
    hyperParams.maxSeqLength,
    (value) => positiveInt(value) && value % CONTEXT_STEP === 0 && value <= MAX_WINDOW,
    `a positive multiple of ${CONTEXT_STEP} (llama.cpp pads a training context to that), at most ${MAX_WINDOW}`,
  )
  for (const key of ['learningRate', 'loraAlpha'] as const) check(`hyperParams.${key}`, hyperParams[key], positive, 'a positive number')
  check('hyperParams.loraDropout', hyperParams.loraDropout, fraction, 'in [0, 1)')
  check('hyperParams.evalSplit', hyperParams.evalSplit, fraction, 'in [0, 1)')
  check('loraConfig.r', loraConfig?.r, positiveInt, 'a positive integer')
  check('loraConfig.loraAlpha', loraConfig?.loraAlpha, positive, 'a positive number')
  check('loraConfig.loraDropout', loraConfig?.loraDropout, fraction, 'in [0, 1)')
  check('threads', request.threads, (value) => positiveInt(value) && value <= availableParallelism(), `a positive integer, at most this machine's ${availableParallelism()} cores`)
  if (loraConfig?.bias !== undefined && !BIASES.has(loraConfig.bias)) throw invalid('loraConfig.bias', `loraConfig.bias must be one of ${[...BIASES].join(', ')}`)
  const modules = loraConfig?.targetModules
  if (modules !== undefined) {
    if (!Array.isArray(modules) || !modules.length) throw invalid('loraConfig.targetModules', 'loraConfig.targetModules must be a non-empty list')
    const unknown = modules.find((module) => !(module in TARGET_MODULES))
    if (unknown !== undefined) throw invalid('loraConfig.targetModules', `loraConfig.targetModules has '${unknown}'; the modules are ${Object.keys(TARGET_MODULES).join(', ')}`)
  }

  // Last: the cheap checks first, so a bad field does not cost a read of the file.
  const dataset = await resolveDataset(request, context.allowedDataDirs)
  // llama.cpp's graph stores K and V in its KV cache and attends over the cache's copy: no gradient reaches attn_k and attn_v.
  const frozen = modules?.filter((module) => module === 'k_proj' || module === 'v_proj') ?? []
  if (modules && frozen.length === modules.length) {
    throw invalid('loraConfig.targetModules', `${frozen.join(' and ')} cannot train: llama.cpp's training graph reads K and V back from its KV cache, which passes no gradient to attn_k and attn_v; add q_proj, o_proj or the MLP's modules`)
  }
  const params = { ...HYPER_PARAM_DEFAULTS, ...hyperParams }
  const contextSize = params.maxSeqLength
  if ('windows' in dataset && dataset.windows.some((window) => window.length !== contextSize + 1)) {
    throw invalid('dataset.windows', `each window needs maxSeqLength + 1 = ${contextSize + 1} tokens`)
  }
  const evalSplit = params.evalSplit
  const warnings: string[] = []
  if (params.batchSize !== 1) {
    warnings.push(
      `batchSize ${params.batchSize}: llama.cpp's optimizer takes one AdamW step per window of maxSeqLength tokens, so each step's batch is one window; batchSize does not change training`,
    )
  }
  if (hyperParams.evalSteps !== undefined && !params.evalSplit)
    warnings.push(`evalSteps ${hyperParams.evalSteps}: no windows are held out for evaluation (evalSplit is 0), so there is no eval loss; set evalSplit`)
  if (weights !== undefined)
    warnings.push(
      `baseModel has ${describeType(weights)} weights: llama.cpp's optimizer updates F32 tensors only, so the engine dequantizes the model to F32 first (as inference reads it); model.gguf is F32, and the adapter's changes are relative to the dequantized weights`,
    )
  const dropout = loraConfig?.loraDropout ?? hyperParams.loraDropout
  if (dropout) warnings.push(`loraDropout ${dropout}: the weights train whole and the adapter is extracted afterwards, so there is no LoRA layer to drop out; it is not applied`)
  if (frozen.length)
    warnings.push(`${frozen.join(', ')}: llama.cpp's training graph reads K and V back from its KV cache, which passes no gradient to attn_k and attn_v, so they do not change (the adapter lists them as skipped)`)
  if (loraConfig?.bias && loraConfig.bias !== 'none')
    warnings.push(`bias '${loraConfig.bias}': a LoRA adapter GGUF carries matrices only, so biases are not trained into it; it is not applied`)

  return {
    modelPath: base.path,
    outputDir,
    threads: request.threads ?? context.defaultThreads,
    contextSize,
    targets: modules ? modules.map((module) => TARGET_MODULES[module]!) : [],
    dataset,
    epochs: params.epochs,
    learningRate: params.learningRate,
    evalSplit,
    evalSteps: params.evalSteps,
    saveSteps: params.saveSteps,
    ...(loraConfig
      ? {
          lora: {
            rank: loraConfig.r ?? params.loraRank,
            alpha: loraConfig.loraAlpha ?? params.loraAlpha,
          },
        }
      : {}),
    warnings,
    ...(base.served ? { served: base.served } : {}),
  }
}

/** A served model's id (its file, and its adapters folder), else a GGUF path inside an allowed data or output folder. */
async function resolveBaseModel(name: unknown, context: TrainingRequestContext): Promise<{ path: string; served?: ResolvedTraining['served'] }> {
  if (typeof name !== 'string' || !name) throw invalid('baseModel', 'baseModel is required: a served model id, or a GGUF file inside an allowed data folder')
  const config = context.resolveModel?.(name)
  if (config?.path) {
    const { loraDir } = parseLlamaOptions(config.options ?? {})
    return { path: config.path, served: { model: config.name, ...(loraDir ? { loraDir: resolve(loraDir) } : {}) } }
  }
  // An output folder too: a checkpoint or a fine-tuned model.gguf trains on.
  const found = await resolveAllowedFile(name, [...context.allowedDataDirs, ...context.allowedOutputDirs], 'data or output folder')
  if ('path' in found) return { path: found.path }
  const served = context.modelNames?.() ?? []
  throw invalid(
    'baseModel',
    `baseModel ${JSON.stringify(name)} is not a served model (available: ${served.join(', ') || 'none'}), and as a path it ${found.refused}`,
  )
}

/** `datasetPath` (checked off the event loop: inside the data folders, every record well formed) or inline `dataset`, exactly one. */
async function resolveDataset(request: TrainingRequest, allowedDataDirs: readonly string[]): Promise<TrainingEngineSpec['dataset']> {
  const dataset = request.dataset as unknown
  if (request.datasetPath !== undefined) {
    if (dataset !== undefined) throw invalid('dataset', 'give datasetPath or dataset, not both')
    if (typeof request.datasetPath !== 'string' || !request.datasetPath) throw invalid('datasetPath', 'datasetPath must be the path of a dataset file')
    await checkDataset({ path: request.datasetPath, allowedDirs: allowedDataDirs })
    return { path: request.datasetPath, allowedDirs: [...allowedDataDirs] }
  }
  if (typeof dataset === 'object' && dataset !== null && 'text' in dataset && typeof dataset.text === 'string' && dataset.text) return { text: dataset.text }
  const windows =
    typeof dataset === 'object' &&
    dataset !== null &&
    'windows' in dataset &&
    Array.isArray(dataset.windows) &&
    dataset.windows.length > 0 &&
    dataset.windows.every((w) => Array.isArray(w) && w.every(Number.isInteger))
  if (windows) return { windows: (dataset as { windows: number[][] }).windows }
  throw invalid('datasetPath', 'datasetPath is required (a JSONL, JSON or text file inside an allowed data folder); or dataset: { text } or { windows: [[token, …], …] } inline')
}

