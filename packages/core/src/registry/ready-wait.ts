import { ServiceUnavailableError } from '../errors/service-unavailable-error.ts'
import { clientAbortReason } from '../errors/client-abort-reason.ts'
import { MAX_TIMER_MS } from '../runtime/max-timer-delay.ts'
import type { ModelLifecycle, ModelStatus } from './model-status.ts'

/** Seconds a client is told to wait before asking again for a model that is loading or not loaded. */
const RETRY_LOADING_SECONDS = 5
/** ... and for one that failed: an operator has to act. */
const RETRY_FAILED_SECONDS = 30

/** The parts of a registry entry the wait reads. */
export interface WaitableModel {
  id: string
  status: ModelStatus
  lifecycle?: ModelLifecycle
  /** Called on every status change. */
  changed: Set<() => void>
}

export interface ReadyWaitOptions {
  /** The client's signal: leaving ends the wait. */
  signal?: AbortSignal | (() => AbortSignal)
  /** The longest to wait (the queue timeout; 0 for no limit). */
  timeoutMs?: number
}

function nextChange(model: WaitableModel, signal: AbortSignal | undefined, deadline: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      model.changed.delete(done)
    }
    const onAbort = () => {
      done()
      reject(clientAbortReason(signal!))
    }
    const wait = deadline - Date.now()
    const timer =
      deadline === Infinity
        ? undefined
        : setTimeout(() => {
            done()
            reject(new ServiceUnavailableError(`Model '${model.id}' is still ${model.status.state}`, { code: 'model_not_ready', retryAfterSeconds: RETRY_LOADING_SECONDS }))
          }, Math.max(0, Math.min(wait, MAX_TIMER_MS)))
    model.changed.add(() => {
      done()
      resolve()
    })
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Waits until the model is ready: through `loading` and `unloading`, starting a load of an unloaded model
 * whose lifecycle allows it; 503 with `Retry-After` for a failed model, one that stays unloaded, and one
 * still not ready at the deadline.
 */
export async function waitUntilReady(model: WaitableModel, options: ReadyWaitOptions): Promise<void> {
  const signal = typeof options.signal === 'function' ? options.signal() : options.signal
  if (signal?.aborted) throw clientAbortReason(signal)
  const deadline = options.timeoutMs && options.timeoutMs > 0 ? Date.now() + options.timeoutMs : Infinity
  let loadStarted = false
  for (;;) {
    const { state, reason } = model.status
    if (state === 'ready') return
    if (state === 'failed') {
      throw new ServiceUnavailableError(`Model '${model.id}' failed: ${reason ?? 'unknown reason'}`, { code: 'model_failed', retryAfterSeconds: RETRY_FAILED_SECONDS })
    }
    if (state === 'unloaded') {
      // Once per wait: a load that ends unloaded again (refused for want of room) is the answer.
      if (loadStarted || !model.lifecycle?.autoload) {
        const why = reason ? `: ${reason}` : `; load it with POST /v1/models/${model.id}/load`
        throw new ServiceUnavailableError(`Model '${model.id}' is not loaded${why}`, { code: 'model_not_loaded', retryAfterSeconds: RETRY_LOADING_SECONDS })
      }
      loadStarted = true
      model.lifecycle.autoload()
      continue
    }
    await nextChange(model, signal, deadline)
  }
}
