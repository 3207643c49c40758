import type { OutputChunk } from '../chunks/output-chunk-factories.ts'
import { CancelledError } from '../errors/cancelled-error.ts'
import { errorToWire } from '../errors/error-from-wire.ts'
import { CALL_SLOTS, type HostMessage, type WorkerMessage } from './worker-protocol.ts'

/** What a Worker-side method writes to: like `OutputSink`, plus a flag that works inside blocking loops. */
export interface WorkerSink {
  /** Fires when the call is cancelled, once the Worker's event loop runs (in an engine process: the cancel message). */
  readonly signal: AbortSignal
  /**
   * Reads the shared cancel flag directly: true at once, even while the Worker never yields. In an engine
   * process the flag is the child's own, set when the cancel message arrives, so only a method that yields sees it.
   */
  readonly aborted: boolean
  /** The shared flag itself (0 = running, 1 = cancelled), to hand to a native abort callback. */
  readonly abortFlag: Int32Array
  /** Sends a chunk. Returns false when the reader is behind: await `ready()` then. */
  push(chunk: OutputChunk): boolean
  ready(): Promise<void>
}

export type WorkerMethod = (args: any, out: WorkerSink) => unknown | Promise<unknown>

/** In an engine process (see ProcessTransport) rather than on a Worker: the parent is reached over IPC. */
const inProcess = Bun.isMainThread && typeof process.send === 'function'

function post(message: WorkerMessage): void {
  if (inProcess) process.send!(message)
  else (globalThis as unknown as { postMessage(message: WorkerMessage): void }).postMessage(message)
}

/** Chunks pushed inside `batchOutput`, waiting to go as one message. */
let outbox: Extract<WorkerMessage, { kind: 'chunks' }> | undefined

function send(id: number, chunk: OutputChunk): void {
  if (!outbox) return post({ kind: 'chunk', id, chunk })
  outbox.ids.push(id)
  outbox.chunks.push(chunk)
}

/**
 * Runs `work` (synchronous) and sends every chunk it pushes, for any call, as one message when it returns:
 * a batch step that emits a token for each of many requests costs one message, not one per token.
 * Outside it a push is posted at once, so a method in a blocking loop still streams.
 */
export function batchOutput<T>(work: () => T): T {
  if (outbox) return work()
  outbox = { kind: 'chunks', ids: [], chunks: [] }
  try {
    return work()
  } finally {
    const batch = outbox
    outbox = undefined
    if (batch.chunks.length === 1) post({ kind: 'chunk', id: batch.ids[0]!, chunk: batch.chunks[0]! })
    else if (batch.chunks.length > 1) post(batch)
  }
}

class CallSink implements WorkerSink {
  readonly #controller = new AbortController()
  readonly abortFlag: Int32Array
  #waiters: Array<() => void> = []

  constructor(
    readonly id: number,
    readonly shared: Int32Array,
  ) {
    this.abortFlag = shared.subarray(CALL_SLOTS.abort, CALL_SLOTS.abort + 1)
    // Cancelled before it arrived: its cancel message came first and found no sink, so only the flag tells.
    if (Atomics.load(shared, CALL_SLOTS.abort) !== 0) this.cancel()
  }

  /** Across a process: the host's reader took `n` chunks. */
  credit(n: number): void {
    Atomics.add(this.shared, CALL_SLOTS.credit, n)
    this.wake()
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  get aborted(): boolean {
    if (Atomics.load(this.shared, CALL_SLOTS.abort) !== 0) this.cancel()
    return this.#controller.signal.aborted
  }

  push(chunk: OutputChunk): boolean {
    if (this.aborted) return false
    send(this.id, chunk)
    // The host adds credit back in the shared slot as its reader takes chunks: no message per chunk.
    return Atomics.sub(this.shared, CALL_SLOTS.credit, 1) > 1
  }

  ready(): Promise<void> {
    if (this.#hasCredit() || this.aborted) return Promise.resolve()
    // Say we wait, then look again: credit added in between is seen here, or the host sees the flag and wakes us.
    Atomics.store(this.shared, CALL_SLOTS.waiting, 1)
    if (this.#hasCredit()) {
      Atomics.store(this.shared, CALL_SLOTS.waiting, 0)
      return Promise.resolve()
    }
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** The host added credit after seeing the waiting flag (and cleared it). */
  wake(): void {
    if (this.#hasCredit()) this.#wake()
  }

  cancel(): void {
    if (this.#controller.signal.aborted) return
    // Across a process nobody else sets the flag: native abort callbacks polling it see the cancel too.
    Atomics.store(this.shared, CALL_SLOTS.abort, 1)
    this.#controller.abort(new CancelledError('The request was cancelled'))
    this.#wake()
  }

  #hasCredit(): boolean {
    return Atomics.load(this.shared, CALL_SLOTS.credit) > 0
  }

  #wake(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const resolve of waiters) resolve()
  }
}

/** The call's slots: shared with a Worker's host, or the engine process's own (see HostMessage). */
function callSlots(message: Extract<HostMessage, { kind: 'call' }>): Int32Array {
  if (message.shared) return message.shared
  const slots = new Int32Array(Object.keys(CALL_SLOTS).length)
  slots[CALL_SLOTS.credit] = message.credit
  return slots
}

/**
 * Serves `methods` to the `WorkerHost` that started this module. Call once, at the top of the engine
 * module: it serves a Worker's host by `postMessage`, or, run in an engine process, its parent over IPC.
 */
export function serveWorker(methods: Record<string, WorkerMethod>): void {
  const sinks = new Map<number, CallSink>()
  const onMessage = async (message: HostMessage) => {
    if (message.kind === 'wake') return sinks.get(message.id)?.wake()
    if (message.kind === 'credit') {
      for (let i = 0; i < message.ids.length; i++) sinks.get(message.ids[i]!)?.credit(message.n[i]!)
      return
    }
    if (message.kind === 'cancel') return sinks.get(message.id)?.cancel()
    const sink = new CallSink(message.id, callSlots(message))
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
  if (inProcess) {
    process.on('message', (message: HostMessage) => void onMessage(message))
    post({ kind: 'listening' })
  } else (globalThis as unknown as { onmessage: (event: MessageEvent<HostMessage>) => void }).onmessage = (event) => void onMessage(event.data)
}
