import { ConcurrencyLimiter, ServiceUnavailableError } from '@cy/core'

/** A tenant's settings (`ServerOptions.tenants`): how many of its requests run at once, and may wait. */
export interface TenantOptions {
  /** Its requests that run at once (default: no limit of its own). */
  maxConcurrency?: number
  /** Its requests that may wait for one of its slots; past it 429 (default 4 × `maxConcurrency`). */
  maxQueue?: number
}

/** The metrics label of a tenant the configuration does not name: clients cannot make up label values. */
export const OTHER_TENANT = 'other'

const noRelease = () => {}

/**
 * The engine API's tenants (`metadata.tenant`): each configured one may have a concurrency limit of its
 * own, taken before the model's and the server's slots, so one tenant cannot fill the server's queue.
 */
export class TenantLimits {
  readonly #tenants = new Map<string, ConcurrencyLimiter | undefined>()

  constructor(tenants: Readonly<Record<string, TenantOptions>> = {}) {
    for (const [name, options] of Object.entries(tenants)) {
      const max = options.maxConcurrency
      const limited = max !== undefined && max > 0 && Number.isFinite(max)
      this.#tenants.set(name, limited ? new ConcurrencyLimiter({ maxConcurrency: max, maxQueue: options.maxQueue ?? 4 * max }) : undefined)
    }
  }

  /** The tenant's metrics label: its name when configured, else `other`; undefined without a tenant. */
  label(tenant: string | undefined): string | undefined {
    if (tenant === undefined) return undefined
    return this.#tenants.has(tenant) ? tenant : OTHER_TENANT
  }

  /** Each limited tenant's requests running and waiting, and its limit (the health details). */
  snapshot(): Record<string, { active: number; pendingTasks: number; maxConcurrency: number }> {
    const out: Record<string, { active: number; pendingTasks: number; maxConcurrency: number }> = {}
    for (const [name, limiter] of this.#tenants) if (limiter) out[name] = { active: limiter.active, pendingTasks: limiter.queued, maxConcurrency: limiter.limits.maxConcurrency }
    return out
  }

  /**
   * One of the tenant's slots (at once when it has no limit): waits up to `timeoutMs` (0: no limit), then
   * 503; 429 when its queue is full; the signal's reason when the caller leaves.
   */
  async acquire(tenant: string | undefined, signal: AbortSignal, timeoutMs: number): Promise<() => void> {
    const limiter = tenant === undefined ? undefined : this.#tenants.get(tenant)
    if (!limiter) return noRelease
    const release = limiter.tryAcquire()
    if (release) return release
    const deadline = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined
    try {
      return await limiter.acquire(deadline ? AbortSignal.any([signal, deadline]) : signal)
    } catch (error) {
      if (deadline?.aborted && !signal.aborted) throw new ServiceUnavailableError(`Tenant '${tenant}' had no free slot within ${timeoutMs} ms`, { code: 'tenant_queue_timeout' })
      throw error
    }
  }
}
