import type { OutputChunk } from '../chunks/output-chunk-factories.ts'
import type { OutputSink } from '../channel/output-channel.ts'
import { CancelledError } from '../errors/cancelled-error.ts'
import { errorFromWire } from '../errors/error-from-wire.ts'
import { ProviderError } from '../errors/provider-error.ts'
import type { EngineTransport } from './engine-transport.ts'
import type { Isolation } from './isolation.ts'
import { ProcessTransport } from './process-transport.ts'
import { WorkerTransport } from './worker-transport.ts'
import { CALL_SLOTS, CREDIT_BATCH, CREDIT_WINDOW, type HostMessage, type WorkerMessage } from './worker-protocol.ts'

interface PendingCall {
  out: OutputSink | undefined
  /** The slots shared with the Worker (see CALL_SLOTS); absent across a process. */
  shared: Int32Array | undefined
  /** Across a process: chunks taken whose credit has not gone back yet. */
  unsent: number
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  onAbort: () => void
}

export interface WorkerHostOptions {
  /** A name for logs and errors ("llama:qwen"). */
  name?: string
  /** A Worker thread (default) or a child process of its own, whose crash takes only its own calls down. */
  isolation?: Isolation
  /** The engine died by itself (not `terminate()`): its calls in flight have failed with a 502 already. */
  onExit?: (error: ProviderError) => void
}

/**
 * Runs blocking engine work off the event loop: on a Worker thread, or in a child process.
 * Chunks stream back with credit-based back-pressure. On a Worker the credit is kept in shared memory, so
 * only a Worker that waits for it costs a message, and cancellation is a shared flag the Worker can poll
 * between steps (or hand to native abort callbacks) even while it never yields to its event loop. Across a
 * process both travel as messages, credit in batches.
 */
export class WorkerHost {
  readonly #transport: EngineTransport
  readonly #calls = new Map<number, PendingCall>()
  readonly #name: string
  #nextId = 1
  #dead: Error | undefined
  /** Across a process, while one message's chunks are delivered: the calls that owe credit back. */
  #owed: Set<number> | undefined

  constructor(url: string | URL, options: WorkerHostOptions = {}) {
    this.#name = options.name ?? String(url)
    this.#transport = options.isolation === 'process' ? new ProcessTransport(url, this.#name) : new WorkerTransport(url, this.#name)
    this.#transport.onMessage((message) => this.#onMessage(message))
    this.#transport.onExit((reason) => {
      const error = new ProviderError(`${this.#transport.kind} '${this.#name}' ${reason}`)
      this.#die(error)
      options.onExit?.(error)
    })
  }

  get isolation(): Isolation {
    return this.#transport.sharedMemory ? 'worker' : 'process'
  }

  /** The transport, for tests that need the child's pid. */
  get transport(): EngineTransport {
    return this.#transport
  }

  /**
   * Calls `method` in the engine; its chunks go to `out`. Resolves with what the method returned.
   * `transfer` moves those buffers of `args` to a Worker instead of copying them (they are detached here);
   * across a process they are copied.
   */
  call<T = unknown>(method: string, args: unknown, out?: OutputSink, transfer?: Transferable[]): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead)
    const id = this.#nextId++
    let shared: Int32Array | undefined
    if (this.#transport.sharedMemory) {
      shared = new Int32Array(new SharedArrayBuffer(4 * Object.keys(CALL_SLOTS).length))
      shared[CALL_SLOTS.credit] = CREDIT_WINDOW
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (shared) Atomics.store(shared, CALL_SLOTS.abort, 1)
        this.#post({ kind: 'cancel', id })
      }
      this.#calls.set(id, { out, shared, unsent: 0, resolve: resolve as (value: unknown) => void, reject, onAbort })
      // Already cancelled: the shared flag is set before the call goes, so a Worker sees it at its first look.
      const aborted = out?.signal.aborted === true
      if (aborted && shared) Atomics.store(shared, CALL_SLOTS.abort, 1)
      // The call goes first, so that a cancel message always finds it on the other side.
      this.#post({ kind: 'call', id, method, args, credit: CREDIT_WINDOW, ...(shared ? { shared } : {}) }, transfer)
      if (aborted) onAbort()
      else out?.signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Stops the engine; calls in flight fail. */
  terminate(): void {
    this.#die(new CancelledError(`${this.#transport.kind} '${this.#name}' was stopped`))
    this.#transport.terminate()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate()
  }

  #post(message: HostMessage, transfer?: Transferable[]): void {
    this.#transport.post(message, transfer)
  }

  #onMessage(message: WorkerMessage): void {
    if (message.kind === 'chunks' || message.kind === 'chunk') {
      // Across a process the credit their delivery earns goes back as one message, whatever the calls.
      if (!this.#transport.sharedMemory) this.#owed = new Set()
      if (message.kind === 'chunk') this.#deliver(message.id, message.chunk)
      else for (let i = 0; i < message.ids.length; i++) this.#deliver(message.ids[i]!, message.chunks[i]!)
      this.#payOwed()
      return
    }
    if (message.kind === 'listening') return
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

  /**
   * One chunk's credit back: in shared memory (a message only when the Worker waits), or in batches of
   * `CREDIT_BATCH` chunks, those of one incoming message (a batch step of many calls) in one message.
   */
  #credit(id: number, call: PendingCall): void {
    if (call.shared) {
      Atomics.add(call.shared, CALL_SLOTS.credit, 1)
      if (Atomics.compareExchange(call.shared, CALL_SLOTS.waiting, 1, 0) === 1) this.#post({ kind: 'wake', id })
      return
    }
    if (++call.unsent < CREDIT_BATCH || !this.#calls.has(id)) return
    if (this.#owed) return void this.#owed.add(id)
    this.#post({ kind: 'credit', ids: [id], n: [call.unsent] })
    call.unsent = 0
  }

  /** Sends the credit gathered while one message's chunks were delivered (see `#owed`). */
  #payOwed(): void {
    const owed = this.#owed
    this.#owed = undefined
    if (!owed?.size) return
    const ids: number[] = []
    const n: number[] = []
    for (const id of owed) {
      const call = this.#calls.get(id)
      if (!call) continue
      ids.push(id)
      n.push(call.unsent)
      call.unsent = 0
    }
    if (ids.length) this.#post({ kind: 'credit', ids, n })
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
