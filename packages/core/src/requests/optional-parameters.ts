import type { Capability } from '../capability.ts'
import { BadRequestError } from '../errors/bad-request-error.ts'
import { UnsupportedParameterError } from '../errors/unsupported-parameter-error.ts'

/**
 * Optional request fields a model may or may not honour, per capability, and what a model declares it
 * honours (`supports` when it is registered). A request that sets one its model does not declare gets
 * 400 `unsupported_parameter` instead of having it silently ignored. Fields the server itself handles
 * (`stream`, `stream_options`, `tools` through the gateway, `encoding_format`, `user`...) are not listed.
 */
export type SupportedParameters = Partial<Record<Capability, readonly string[]>>

interface OptionalParameter {
  /** Whether the request asks for it: a value other than the no-op default. */
  isSet(value: unknown): boolean
  /** Assumed for a model that declares nothing for the capability (what handlers received before declarations existed). */
  byDefault: boolean
}

const given = (value: unknown) => value !== undefined && value !== null
const nonZero = (value: unknown) => given(value) && value !== 0
const nonEmpty = (value: unknown) => given(value) && value !== '' && !(Array.isArray(value) && value.length === 0) && !(typeof value === 'object' && Object.keys(value as object).length === 0)
const above1 = (value: unknown) => given(value) && value !== 1
const isTrue = (value: unknown) => value === true

const assumed = (isSet: OptionalParameter['isSet']): OptionalParameter => ({ isSet, byDefault: true })
const declared = (isSet: OptionalParameter['isSet']): OptionalParameter => ({ isSet, byDefault: false })

/** Sampling controls every text model used to receive: assumed unless a model declares its own list. */
const SAMPLING: Record<string, OptionalParameter> = {
  temperature: assumed(given),
  top_p: assumed(given),
  max_tokens: assumed(given),
  stop: assumed(nonEmpty),
  seed: assumed(given),
  presence_penalty: assumed(nonZero),
  frequency_penalty: assumed(nonZero),
  logit_bias: assumed(nonEmpty),
  top_k: assumed(given),
  min_p: assumed(given),
  repeat_penalty: assumed(given),
  // Several choices need the model to run them: never assumed.
  n: declared(above1),
  // A LoRA adapter: only models that load them.
  adapter: declared(nonEmpty),
}

export const OPTIONAL_PARAMETERS: Partial<Record<Capability, Record<string, OptionalParameter>>> = {
  chat: {
    ...SAMPLING,
    response_format: assumed((value) => given(value) && (value as { type?: unknown }).type !== 'text'),
    logprobs: declared(isTrue),
    top_logprobs: declared(given),
    // OpenAI features no model here implements: refused unless a model declares them.
    audio: declared(given),
    modalities: declared((value) => Array.isArray(value) && value.some((modality) => modality !== 'text')),
    prediction: declared(given),
    reasoning_effort: declared(given),
    web_search_options: declared(given),
    functions: declared(nonEmpty),
    function_call: declared(given),
    // One tier here, and chat completions are not stored: the values that ask for nothing pass.
    service_tier: declared((value) => given(value) && value !== 'auto' && value !== 'default'),
    store: declared(isTrue),
    verbosity: declared((value) => given(value) && value !== 'medium'),
  },
  completion: {
    ...SAMPLING,
    logprobs: declared(given),
    suffix: declared(nonEmpty),
  },
  embedding: { dimensions: assumed(given) },
  asr: {
    language: assumed(nonEmpty),
    prompt: assumed(nonEmpty),
    temperature: assumed(given),
    timestamp_granularities: assumed(nonEmpty),
    include: declared(nonEmpty),
    text_norm: declared(given),
  },
  tts: {
    speed: assumed((value) => given(value) && value !== 1),
    instructions: assumed(nonEmpty),
    // Extensions (espeak voice override, VITS noise): refused unless a model declares them. `sample_rate`
    // is not listed: the server resamples any model's audio to it.
    language: declared(nonEmpty),
    noise_scale: declared(given),
    noise_w: declared(given),
  },
  image: {
    n: assumed(above1),
    size: assumed((value) => given(value) && value !== 'auto'),
    quality: assumed((value) => given(value) && value !== 'auto'),
    style: assumed(given),
    seed: assumed(given),
    negative_prompt: assumed(nonEmpty),
    steps: assumed(given),
    cfg_scale: assumed(given),
    // Newer than the first image handlers, or asking for what few models make: declared, never assumed.
    background: declared((value) => value === 'transparent'),
    sampler: declared(nonEmpty),
    scheduler: declared(nonEmpty),
    clip_skip: declared(given),
    strength: declared(given),
    loras: declared(nonEmpty),
    image: declared(nonEmpty),
    mask: declared(given),
    input_fidelity: declared(given),
  },
}

/**
 * Throws 400 `unsupported_parameter` naming the first optional field the request sets that `supported`
 * (the model's declaration for the capability; undefined: the assumed defaults) leaves out.
 */
export function checkSupportedParameters(capability: Capability, model: string, request: object, supported: readonly string[] | undefined): void {
  const table = OPTIONAL_PARAMETERS[capability]
  if (!table) return
  const fields = request as Record<string, unknown>
  for (const name in table) {
    const parameter = table[name]!
    const value = fields[name]
    if (value === undefined || !parameter.isSet(value)) continue
    if (supported ? !supported.includes(name) : !parameter.byDefault) throw new UnsupportedParameterError(model, name)
  }
  // OpenAI's rule: alternatives are given only with the chosen token's logprobs.
  if (capability === 'chat' && given(fields.top_logprobs) && fields.logprobs !== true) {
    throw new BadRequestError("'top_logprobs' needs 'logprobs' set to true.", { param: 'top_logprobs', code: 'invalid_value' })
  }
}
