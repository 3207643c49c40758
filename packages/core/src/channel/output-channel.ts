import type { OutputChunk } from '../chunks/output-chunk-factories.ts'
import { CancelledError } from '../errors/cancelled-error.ts'
import { ProviderError } from '../errors/provider-error.ts'
import { toApiError } from '../errors/to-api-error.ts'

/** The side of a channel a handler writes to. */
export interface OutputSink {
  /** Fires when the client goes away or the request times out: stop working then. */
  readonly signal: AbortSignal
  /** Queues a chunk. Returns false once the buffer is over its mark: await `ready()` before pushing more. */
  push(chunk: OutputChunk): boolean
  /** Resolves when the reader has caught up (or the channel closed). */
  ready(): Promise<void>
  /** Ends the output normally. */
  end(): void
  /** Ends the output with an error; the client gets it as an OpenAI error. */
  fail(error: unknown): void
  /** True once ended, failed or aborted: further pushes are dropped. */
  readonly closed: boolean
  /** The worker the client would rather run on (`DispatchOptions.workerHint`): a cluster master prefers it when it can. */
  readonly workerHint?: string
  /** The request's queue priority (`DispatchOptions.priority`), when not 0: a cluster master passes it to the worker's queue. */
  readonly priority?: number
}

export interface OutputChannelOptions {
  /** Buffered chunks past which `push` asks the writer to wait. */
  highWaterMark?: number
}

type Waiter = { resolve: (chunks: OutputChunk[] | null) => void; reject: (error: unknown) => void }

/**
 * A one-writer, one-reader queue of output chunks with back-pressure and cancellation.
 * The reader takes every buffered chunk at once (`take`), so a fast writer costs one wake-up per batch.
 */
export class OutputChannel implements OutputSink, AsyncIterable<OutputChunk> {
  // Made on first use: most light requests never need a signal, and an AbortController is not free.
  #controller: AbortController | undefined
  readonly #highWaterMark: number
  workerHint?: string
  priority?: number
  #buffer: OutputChunk[] = []
  #ended = false
  #error: unknown = undefined
  #failed = false
  #waiter: Waiter | undefined
  #drainWaiters: Array<() => void> = []
  #closeListeners: Array<() => void> = []

  constructor(options: OutputChannelOptions = {}) {
    this.#highWaterMark = options.highWaterMark ?? 64
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController()
    return this.#controller.signal
  }

  get closed(): boolean {
    return this.#ended || this.#failed
  }

  /** True once the output ended normally and the reader has taken every chunk. */
  get finished(): boolean {
    return this.#ended && this.#buffer.length === 0
  }

  /** Number of chunks waiting for the reader. */
  get buffered(): number {
    return this.#buffer.length
  }

  push(chunk: OutputChunk): boolean {
    if (this.closed) return false
    if (chunk.type === 'error') {
      this.fail(new ProviderError(chunk.message, { code: chunk.code ?? 'provider_error' }))
      return false
    }
    if (this.#waiter) {
      const waiter = this.#waiter
      this.#waiter = undefined
      waiter.resolve([chunk])
      return true
    }
    this.#buffer.push(chunk)
    return this.#buffer.length < this.#highWaterMark
  }

  ready(): Promise<void> {
    if (this.closed || this.#buffer.length < this.#highWaterMark) return Promise.resolve()
    return new Promise((resolve) => this.#drainWaiters.push(resolve))
  }

  end(): void {
    if (this.closed) return
    this.#ended = true
    this.#settle()
  }

  fail(error: unknown): void {
    if (this.closed) return
    this.#failed = true
    this.#error = toApiError(error, 'provider')
    this.#settle()
  }

  /** Called by the reader's side: the client left or the deadline passed. Fires `signal`. */
  abort(reason: unknown): void {
    const signal = this.signal
    if (!signal.aborted) this.#controller!.abort(reason)
    if (this.closed) return
    this.#failed = true
    this.#error = toApiError(reason)
    this.#buffer = []
    this.#settle()
  }

  /** Runs `listener` once the channel is closed for any reason. */
  onClose(listener: () => void): void {
    if (this.closed) listener()
    else this.#closeListeners.push(listener)
  }

  /** Every buffered chunk now, without waiting: possibly none. */
  takeBuffered(): OutputChunk[] {
    const chunks = this.#buffer
    if (chunks.length === 0) return chunks
    this.#buffer = []
    this.#releaseDrainWaiters()
    return chunks
  }

  /** Resolves with every buffered chunk, or null at a normal end; rejects with the failure. */
  take(): Promise<OutputChunk[] | null> {
    if (this.#buffer.length > 0) return Promise.resolve(this.takeBuffered())
    if (this.#failed) return Promise.reject(this.#error)
    if (this.#ended) return Promise.resolve(null)
    if (this.#waiter) return Promise.reject(new Error('OutputChannel has one reader'))
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }

  async *[Symbol.asyncIterator](): AsyncIterator<OutputChunk> {
    try {
      for (;;) {
        const chunks = await this.take()
        if (chunks === null) return
        yield* chunks
      }
    } finally {
      // A reader that stops early (break, throw) wants no more: stop the handler too.
      if (!this.closed) this.abort(new CancelledError('The reader stopped reading the output'))
    }
  }

  #settle(): void {
    const waiter = this.#waiter
    this.#waiter = undefined
    if (waiter && this.#buffer.length === 0) {
      if (this.#failed) waiter.reject(this.#error)
      else waiter.resolve(null)
    }
    this.#releaseDrainWaiters()
    const listeners = this.#closeListeners
    this.#closeListeners = []
    for (const listener of listeners) listener()
  }

  #releaseDrainWaiters(): void {
    if (this.#drainWaiters.length === 0) return
    const waiters = this.#drainWaiters
    this.#drainWaiters = []
    for (const resolve of waiters) resolve()
  }
}
