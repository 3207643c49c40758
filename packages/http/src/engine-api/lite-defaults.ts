import { BadRequestError, ChatRequestSchema, ModelParam, type ChatRequest } from '@cy/core'
import { Type } from '@sinclair/typebox'
import type { ApiContext } from '../api-context.ts'

/** The model name the seed's Lite mode sends when it means "the default one". */
export const DEFAULT_MODEL_NAME = 'default'

/**
 * `/v1/chat/completions` as the seed's Lite mode calls it: `model` optional (the default model), and
 * vLLM's `repetition_penalty` beside llama.cpp's `repeat_penalty`.
 */
export const LiteChatRequestSchema = Type.Object(
  {
    ...ChatRequestSchema.properties,
    model: Type.Optional({ ...ModelParam, description: 'The model to route the request to; absent (or `default`, unless a model has that name): the default model.' }),
    repetition_penalty: Type.Optional(Type.Number({ minimum: 0, description: 'Extension: another name of `repeat_penalty` (vLLM\'s, the seed\'s Lite mode).' })),
  },
  { description: ChatRequestSchema.description, additionalProperties: true },
)

export type LiteChatRequest = Omit<ChatRequest, 'model'> & { model?: string; repetition_penalty?: number }

/**
 * The model a chat request means: its own `model`; when absent (or `default` with no model of that name)
 * the server's default model (`defaultModel`), else the only chat model registered; else the usual 400
 * naming `model` (or, for `default`, the usual unknown-model error further on).
 */
export function liteChatModel(ctx: ApiContext, requested: string | undefined): string {
  if (requested !== undefined && (requested !== DEFAULT_MODEL_NAME || ctx.registry.has(requested))) return requested
  if (ctx.defaultModel) return ctx.defaultModel
  const chat = ctx.registry.infos().filter((info) => info.capabilities.includes('chat') && info.metadata.unlisted !== true)
  if (chat.length === 1) return chat[0]!.id
  if (requested !== undefined) return requested
  const why = chat.length === 0 ? 'no chat model is registered' : `no default model is set (--default-model) and ${chat.length} chat models are registered`
  throw new BadRequestError(`Missing required parameter: 'model' (${why}).`, { param: 'model', code: 'invalid_value' })
}

/** The Lite request as the one chat request: its model resolved, `repetition_penalty` as `repeat_penalty`. */
export function liteChatRequest(ctx: ApiContext, lite: LiteChatRequest): ChatRequest {
  const { repetition_penalty: alias, ...rest } = lite
  const chat = { ...rest, model: liteChatModel(ctx, lite.model) } as ChatRequest
  if (alias !== undefined) {
    if (chat.repeat_penalty !== undefined && chat.repeat_penalty !== alias) {
      throw new BadRequestError("'repetition_penalty' and 'repeat_penalty' are two names of one setting: send one, or the same value.", { param: 'repetition_penalty', code: 'invalid_value' })
    }
    chat.repeat_penalty = alias
  }
  return chat
}
