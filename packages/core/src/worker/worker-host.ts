import type { OutputSink } from '../channel/output-channel.ts'
import { CancelledError } from '../errors/cancelled-error.ts'
import { errorFromWire } from '../errors/error-from-wire.ts'
import { ProviderError } from '../errors/provider-error.ts'
import type { HostMessage, WorkerMessage } from './worker-protocol.ts'

/** Chunks a Worker may send before it must wait for the reader. */
const CREDIT_WINDOW = 64
/** Credit goes back in batches of this many chunks: one message per chunk would cost the engine's cores. */
const CREDIT_BATCH = 16

interface PendingCall {
  out: OutputSink | undefined
  abortFlag: Int32Array
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  onAbort: () => void
  /** Chunks taken by the reader whose credit has not been sent back yet. */
  owed: number
}

export interface WorkerHostOptions {
  /** A name for logs and errors ("llama:qwen"). */
  name?: string
}

/**
 * Runs blocking engine work on a Worker thread, so the event loop keeps serving while a model works.
 * Chunks stream back with credit-based back-pressure; cancellation is a shared flag the Worker can
 * poll between steps (or hand to native abort callbacks) even while it never yields to its event loop.
 */
export class WorkerHost {
  readonly #worker: Worker
  readonly #calls = new Map<number, PendingCall>()
  readonly #name: string
  #nextId = 1
  #dead: Error | undefined

  constructor(url: string | URL, options: WorkerHostOptions = {}) {
    this.#name = options.name ?? String(url)
    this.#worker = new Worker(url, { name: this.#name } as WorkerOptions)
    this.#worker.onmessage = (event: MessageEvent<WorkerMessage>) => this.#onMessage(event.data)
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.()
      this.#die(new ProviderError(`Engine worker '${this.#name}' crashed: ${event.message}`))
      this.#worker.terminate()
    }
  }

  /** Calls `method` in the Worker; its chunks go to `out`. Resolves with what the method returned. */
  call<T = unknown>(method: string, args: unknown, out?: OutputSink): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead)
    const id = this.#nextId++
    const abortFlag = new Int32Array(new SharedArrayBuffer(4))
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        Atomics.store(abortFlag, 0, 1)
        this.#post({ kind: 'cancel', id })
      }
      this.#calls.set(id, { out, abortFlag, resolve: resolve as (value: unknown) => void, reject, onAbort, owed: 0 })
      if (out?.signal.aborted) onAbort()
      else out?.signal.addEventListener('abort', onAbort, { once: true })
      this.#post({ kind: 'call', id, method, args, abortFlag, credit: CREDIT_WINDOW })
    })
  }

  /** Stops the Worker; calls in flight fail. */
  terminate(): void {
    this.#die(new CancelledError(`Engine worker '${this.#name}' was stopped`))
    this.#worker.terminate()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate()
  }

  #post(message: HostMessage): void {
    this.#worker.postMessage(message)
  }

  #onMessage(message: WorkerMessage): void {
    const call = this.#calls.get(message.id)
    if (!call) return
    switch (message.kind) {
      case 'chunk': {
        if (!call.out || call.out.push(message.chunk)) this.#owe(message.id, call)
        else call.out.ready().then(() => this.#owe(message.id, call))
        return
      }
      case 'end':
        this.#settle(message.id, call)
        call.resolve(message.value)
        return
      case 'fail':
        this.#settle(message.id, call)
        call.reject(errorFromWire(message.error))
        return
    }
  }

  #owe(id: number, call: PendingCall): void {
    if (++call.owed < CREDIT_BATCH) return
    this.#post({ kind: 'credit', id, credit: call.owed })
    call.owed = 0
  }

  #settle(id: number, call: PendingCall): void {
    this.#calls.delete(id)
    call.out?.signal.removeEventListener('abort', call.onAbort)
  }

  #die(error: Error): void {
    if (this.#dead) return
    this.#dead = error
    for (const [id, call] of this.#calls) {
      this.#settle(id, call)
      call.reject(error)
    }
  }
}
