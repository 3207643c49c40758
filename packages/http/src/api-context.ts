import type { Dispatcher, ModelRegistry } from '@cy/core'
import type { Gateway } from '@cy/gateway'
import type { ApiKeyGuard } from './guards/api-key-guard.ts'
import type { CorsOrigins } from './guards/cors.ts'
import type { ImageStore } from './images/image-store.ts'
import type { ResponseStore } from './responses/response-store.ts'

/** What the routes share: the models, the runtime, the keys, and the image links. */
export interface ApiContext {
  registry: ModelRegistry
  dispatcher: Dispatcher
  apiKeys: ApiKeyGuard
  images: ImageStore
  /** Largest request body in bytes. */
  maxBodyBytes: number
  /** Base URL for links this server hands out (image URLs); by default the request's own origin. */
  publicUrl?: string
  /** Browser origins allowed to call the API. */
  cors: CorsOrigins
  startedAt: number
  /** Sessions, the execution gate, the tool bridge, validation and the sanitizer for generation routes. */
  gateway: Gateway
  /** Stored Responses API responses. */
  responses: ResponseStore
  /** Extra `/health` sections by name, computed when asked (a cluster master adds its workers). */
  healthDetails: Map<string, () => unknown>
}
