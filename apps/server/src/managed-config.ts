import type { ModelConfig } from '@cy/core'

/** A model as the server app manages it: the adapter's config, plus when it loads and how long it stays. */
export interface ManagedModelConfig extends ModelConfig {
  /** `eager` (default) loads at start, in the background; `lazy` on its first request. */
  load?: 'eager' | 'lazy'
  /** Milliseconds it stays loaded once idle (Ollama's `keep_alive`); negative (default): never unloaded. */
  keepAliveMs?: number
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `keepAlive`: seconds as a number, or `250ms`, `30s`, `5m`, `1h`; `-1` (any negative) for never. Undefined when malformed. */
export function parseKeepAlive(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 0 ? -1 : value * 1000
  if (typeof value !== 'string') return undefined
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value)
  if (!match) return undefined
  const amount = Number(match[1])
  return amount < 0 ? -1 : amount * UNITS[match[2] ?? 's']!
}
