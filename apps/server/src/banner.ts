import type { DiscoveredAdapter } from './adapter-discovery.ts'
import type { ModelManager } from './model-manager.ts'
import { isLoopbackName } from '@cy/http'

export interface BannerFacts {
  url: string
  adapters: DiscoveredAdapter[]
  models: ReturnType<ModelManager['models']>
  unclaimed: string[]
  apiKey: boolean
  /** The bound address. */
  host: string
  /** The cluster role, in cluster mode. */
  cluster?: string
  /** The command that fetches the default chat model, shown when no model is served. */
  pullHint?: string
  /** The gRPC service's address (`host:port`), when `--grpc-port` is set. */
  grpc?: string
  /** Training's folders, when it is on. */
  training?: { dataDirs: string[]; outputDirs: string[] }
}

/** The one command that fetches `id`, as the user started the server: `npm start -- pull` under npm, else `bun run apps/server pull`. */
export function pullHint(id: string, env: Record<string, string | undefined> = process.env): string {
  return env.npm_lifecycle_event === 'start' ? `npm start -- pull ${id}` : `bun run apps/server pull ${id}`
}

export function banner(facts: BannerFacts): string {
  const lines = ['cy: self-hosted AI models behind the OpenAI API', '']
  lines.push(`adapters  ${facts.adapters.length ? '' : '(none installed: bun add @cy/adapter-llama, for example)'}`)
  for (const { adapter, packageName, version } of facts.adapters) {
    lines.push(`  ${adapter.manifest.name.padEnd(12)} ${packageName}@${version}  ${adapter.manifest.engine.name} ${adapter.manifest.engine.version}  [${adapter.manifest.capabilities.join(', ')}]`)
  }
  lines.push(`models    ${facts.models.length ? '' : '(none)'}`)
  for (const { config, status, capabilities } of facts.models) {
    // What it is doing now: loading in the background, lazy (loads on its first request), failed and why.
    const state = status.state === 'unloaded' && config.load === 'lazy' ? 'lazy' : status.state
    const why = status.reason ? ` (${status.reason})` : ''
    lines.push(`  ${config.name.padEnd(20)} ${config.adapter.padEnd(10)} ${state.padEnd(9)} [${capabilities.join(', ')}]${config.path ? `  ${config.path}` : ''}${why}`)
  }
  if (!facts.models.length && facts.pullHint) lines.push(`get one   ${facts.pullHint}   (the default chat model; served from the next start)`)
  // Each with its reason; a bare name is a file no installed adapter loads.
  for (const [i, entry] of facts.unclaimed.entries()) {
    lines.push(`${i === 0 ? 'unclaimed ' : '          '}${entry.includes(' (') ? entry : `${entry} (no installed adapter loads it)`}`)
  }
  lines.push('')
  if (facts.cluster) lines.push(`cluster   ${facts.cluster}`)
  if (!facts.apiKey && !isLoopbackName(facts.host)) {
    lines.push(`WARNING   listening on ${facts.host} WITHOUT an API key: anyone who can reach this machine can use its models (set --api-key or CY_API_KEY)`)
  }
  lines.push(`API       ${facts.url}/v1${facts.apiKey ? '  (API key required)' : ''}`)
  lines.push(`docs      ${facts.url}/docs`)
  lines.push(`OpenAPI   ${facts.url}/openapi.json`)
  if (facts.training) lines.push(`training  datasets from ${facts.training.dataDirs.join(', ')}; outputs into ${facts.training.outputDirs.join(', ')}  (POST /api/v1/training/start)`)
  if (facts.grpc) lines.push(`gRPC      ${facts.grpc}  (cy.engine.v1.AIService, TrainingService${facts.apiKey ? ', API key in x-api-key' : ''}; grpc.health.v1, reflection)`)
  lines.push(`health    ${facts.url}/health  (ready: ${facts.url}/ready)`)
  return lines.join('\n')
}
