import type { Dispatcher, ModelRegistry, TrainingJobs } from '@cy/core'
import type { Gateway } from '@cy/gateway'
import type { ApiKeyGuard } from './guards/api-key-guard.ts'
import type { BuiltinModelControl } from './builtin-model-control.ts'
import type { OriginPolicy } from './guards/cors.ts'
import type { AllowedHosts } from './guards/host-check.ts'
import type { TenantLimits } from './engine-api/tenant-limits.ts'
import type { ImageStore } from './images/image-store.ts'
import type { ImageUrlResolver } from './media/image-url-resolver.ts'
import type { RequestObserver } from './observability/request-observer.ts'
import type { ModelControl } from './model-control.ts'
import type { ResponseStore } from './responses/response-store.ts'
import type { StreamTiming } from './sse/stream-response.ts'

/** What the routes share: the models, the runtime, the keys, and the image links. */
export interface ApiContext {
  registry: ModelRegistry
  dispatcher: Dispatcher
  apiKeys: ApiKeyGuard
  images: ImageStore
  /** Largest request body in bytes for a path (uploads may take more than JSON bodies). */
  bodyLimit(path: string): number
  /** Base URL for links this server hands out (image URLs); by default the request's own origin. */
  publicUrl?: string
  /** Browser origins allowed to call the API. */
  origins: OriginPolicy
  /** `Host` names this server answers to. */
  hosts: AllowedHosts
  /**
   * Called once a request's body has been read: from then on the handler's silence (a long generation,
   * a transcription) is not an idle connection. A no-op outside `Server.start`.
   */
  holdOpen(request: Request): void
  /** How long an event stream waits for its first output before committing to a 200, and its keep-alive period. */
  stream: StreamTiming
  startedAt: number
  /** Sessions, the execution gate, the tool bridge, validation and the sanitizer for generation routes. */
  gateway: Gateway
  /** Stored Responses API responses. */
  responses: ResponseStore
  /** Extra `/health/details` sections by name, computed when asked (a cluster master adds its workers). */
  healthDetails: Map<string, () => unknown>
  /** Request ids, the access log and the metrics. */
  observer: RequestObserver
  /** GET paths open without the key besides the always-public ones (`/metrics` with `metricsPublic`). */
  openPaths: ReadonlySet<string>
  /** Turns chat `image_url` parts into data URIs before they reach a model (`ServerOptions.media`). */
  media: ImageUrlResolver
  /** Loads and unloads models on request, and names those `/ready` waits for (set by the server app). */
  models?: ModelControl
  /** The model catalog and its downloads (`/models/builtin`; set by the server app). */
  builtin?: BuiltinModelControl
  /** The model a chat request without `model` (or with `default`) means (`ServerOptions.defaultModel`). */
  defaultModel?: string
  /** Training jobs (`/api/v1/training`, gRPC TrainingService; set by the server app from an adapter that trains). */
  training?: TrainingJobs
  /** The engine API's tenants (`metadata.tenant`): their metrics labels and concurrency limits. */
  tenants: TenantLimits
}
