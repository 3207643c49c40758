import type { ChatRequest, ModelRegistry } from '@cy/core'
import type { ImageParamNamer, ImageUrlResolver } from './image-url-resolver.ts'

/**
 * A chat's images resolved for its model, unless nothing would read them: a name the registry does not
 * know (the dispatcher answers it) or a model whose metadata says `vision: false` (its own 400 stays,
 * and nothing is fetched for it).
 */
export function resolveChatImages(
  resolver: ImageUrlResolver,
  registry: ModelRegistry,
  chat: ChatRequest,
  signal: AbortSignal,
  paramOf?: ImageParamNamer,
): Promise<ChatRequest> {
  if (!registry.has(chat.model, 'chat') || registry.info(chat.model)?.metadata.vision === false) return Promise.resolve(chat)
  return resolver.resolveChat(chat, signal, paramOf)
}
