import type { OutputChunk } from '../chunks/output-chunk-factories.ts'
import type { OutputSink } from '../channel/output-channel.ts'
import { CancelledError } from '../errors/cancelled-error.ts'
import { errorFromWire } from '../errors/error-from-wire.ts'
import { ProviderError } from '../errors/provider-error.ts'
import { CALL_SLOTS, type HostMessage, type WorkerMessage } from './worker-protocol.ts'

/** Chunks a Worker may send before it must wait for the reader. */
const CREDIT_WINDOW = 64

interface PendingCall {
  out: OutputSink | undefined
  /** The slots shared with the Worker (see CALL_SLOTS). */
  shared: Int32Array
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  onAbort: () => void
}

export interface WorkerHostOptions {
  /** A name for logs and errors ("llama:qwen"). */
  name?: string
}

/**
 * Runs blocking engine work on a Worker thread, so the event loop keeps serving while a model works.
 * Chunks stream back with credit-based back-pressure, the credit kept in shared memory so that only a
 * Worker that waits for it costs a message; cancellation is a shared flag the Worker can poll between
 * steps (or hand to native abort callbacks) even while it never yields to its event loop.
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

  /**
   * Calls `method` in the Worker; its chunks go to `out`. Resolves with what the method returned.
   * `transfer` moves those buffers of `args` to the Worker instead of copying them (they are detached here).
   */
  call<T = unknown>(method: string, args: unknown, out?: OutputSink, transfer?: Transferable[]): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead)
    const id = this.#nextId++
    const shared = new Int32Array(new SharedArrayBuffer(4 * Object.keys(CALL_SLOTS).length))
    shared[CALL_SLOTS.credit] = CREDIT_WINDOW
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        Atomics.store(shared, CALL_SLOTS.abort, 1)
        this.#post({ kind: 'cancel', id })
      }
      this.#calls.set(id, { out, shared, resolve: resolve as (value: unknown) => void, reject, onAbort })
      if (out?.signal.aborted) onAbort()
      else out?.signal.addEventListener('abort', onAbort, { once: true })
      this.#post({ kind: 'call', id, method, args, shared }, transfer)
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

  #post(message: HostMessage, transfer?: Transferable[]): void {
    if (transfer?.length) this.#worker.postMessage(message, transfer)
    else this.#worker.postMessage(message)
  }

  #onMessage(message: WorkerMessage): void {
    if (message.kind === 'chunks') {
      for (let i = 0; i < message.ids.length; i++) this.#deliver(message.ids[i]!, message.chunks[i]!)
      return
    }
    if (message.kind === 'chunk') return this.#deliver(message.id, message.chunk)
    const call = this.#calls.get(message.id)
    if (!call) return
    switch (message.kind) {
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

  #deliver(id: number, chunk: OutputChunk): void {
    const call = this.#calls.get(id)
    if (!call) return
    if (!call.out || call.out.push(chunk)) this.#credit(id, call)
    else call.out.ready().then(() => this.#credit(id, call))
  }

  /** One chunk's credit back to the Worker; a message only when it waits for it. */
  #credit(id: number, call: PendingCall): void {
    Atomics.add(call.shared, CALL_SLOTS.credit, 1)
    if (Atomics.compareExchange(call.shared, CALL_SLOTS.waiting, 1, 0) === 1) this.#post({ kind: 'wake', id })
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
