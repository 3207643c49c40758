import type { OutputChunk } from '../chunks/output-chunk-factories.ts'
import { CancelledError } from '../errors/cancelled-error.ts'
import { errorToWire } from '../errors/error-from-wire.ts'
import type { HostMessage, WorkerMessage } from './worker-protocol.ts'

/** What a Worker-side method writes to: like `OutputSink`, plus a flag that works inside blocking loops. */
export interface WorkerSink {
  /** Fires when the call is cancelled, once the Worker's event loop runs. */
  readonly signal: AbortSignal
  /** Reads the shared cancel flag directly: true at once, even while the Worker never yields. */
  readonly aborted: boolean
  /** The shared flag itself (0 = running, 1 = cancelled), to hand to a native abort callback. */
  readonly abortFlag: Int32Array
  /** Sends a chunk. Returns false when the reader is behind: await `ready()` then. */
  push(chunk: OutputChunk): boolean
  ready(): Promise<void>
}

export type WorkerMethod = (args: any, out: WorkerSink) => unknown | Promise<unknown>

class CallSink implements WorkerSink {
  readonly #controller = new AbortController()
  #credit: number
  #waiters: Array<() => void> = []

  constructor(
    readonly id: number,
    readonly abortFlag: Int32Array,
    credit: number,
  ) {
    this.#credit = credit
    // Cancelled before it arrived: its cancel message came first and found no sink, so only the flag tells.
    if (Atomics.load(abortFlag, 0) !== 0) this.cancel()
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  get aborted(): boolean {
    if (Atomics.load(this.abortFlag, 0) !== 0) this.cancel()
    return this.#controller.signal.aborted
  }

  push(chunk: OutputChunk): boolean {
    if (this.aborted) return false
    // Posted at once: a method in a blocking loop never reaches a microtask, and its tokens must still stream.
    post({ kind: 'chunk', id: this.id, chunk })
    this.#credit--
    return this.#credit > 0
  }

  ready(): Promise<void> {
    if (this.#credit > 0 || this.aborted) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  addCredit(credit: number): void {
    this.#credit += credit
    if (this.#credit > 0) this.#wake()
  }

  cancel(): void {
    if (this.#controller.signal.aborted) return
    this.#controller.abort(new CancelledError('The request was cancelled'))
    this.#wake()
  }

  #wake(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const resolve of waiters) resolve()
  }
}

function post(message: WorkerMessage): void {
  ;(globalThis as unknown as { postMessage(message: WorkerMessage): void }).postMessage(message)
}

/** Serves `methods` to the `WorkerHost` that started this Worker. Call once, at the top of the Worker module. */
export function serveWorker(methods: Record<string, WorkerMethod>): void {
  const sinks = new Map<number, CallSink>()
  const scope = globalThis as unknown as { onmessage: ((event: MessageEvent<HostMessage>) => void) | null }
  scope.onmessage = async (event) => {
    const message = event.data
    if (message.kind === 'credit') return sinks.get(message.id)?.addCredit(message.credit)
    if (message.kind === 'cancel') return sinks.get(message.id)?.cancel()
    const sink = new CallSink(message.id, message.abortFlag, message.credit)
    sinks.set(message.id, sink)
    try {
      const method = methods[message.method]
      if (!method) throw new Error(`The engine worker has no method '${message.method}'`)
      const value = await method(message.args, sink)
      post({ kind: 'end', id: message.id, value })
    } catch (error) {
      post({ kind: 'fail', id: message.id, error: errorToWire(error) })
    } finally {
      sinks.delete(message.id)
    }
  }
}
