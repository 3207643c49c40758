import type { OutputChunk } from '../chunks/output-chunk-factories.ts'
import type { WireError } from '../errors/error-from-wire.ts'

/**
 * Each call shares three Int32 slots with its Worker, so the per-chunk traffic needs no messages:
 * the cancel flag, the credit left (chunks the Worker may still send), and whether the Worker waits for credit.
 * Across a process there is no shared memory: the child keeps these slots itself, and cancel and credit come
 * as messages (credit in batches, see `CREDIT_BATCH`).
 */
export const CALL_SLOTS = { abort: 0, credit: 1, waiting: 2 } as const

/** Chunks an engine may send before it must wait for the reader. */
export const CREDIT_WINDOW = 64

/** Across a process, credit goes back in messages of this many chunks (a quarter of the window). */
export const CREDIT_BATCH = 16

/** Messages from the main thread to an engine Worker or engine process. */
export type HostMessage =
  /** `shared`: the call's slots in shared memory (Worker); absent across a process, whose child starts at `credit`. */
  | { kind: 'call'; id: number; method: string; args: unknown; shared?: Int32Array; credit: number }
  /** Credit came back while the Worker waited for it (its `waiting` slot was set). */
  | { kind: 'wake'; id: number }
  /** Across a process: the reader took `n[i]` chunks of call `ids[i]` (several calls at once, see `batchOutput`). */
  | { kind: 'credit'; ids: number[]; n: number[] }
  | { kind: 'cancel'; id: number }

/** Messages from an engine Worker (or engine process) to the main thread. */
export type WorkerMessage =
  | { kind: 'chunk'; id: number; chunk: OutputChunk }
  /** The chunks of several calls at once (see `batchOutput`), in the order they were pushed. */
  | { kind: 'chunks'; ids: number[]; chunks: OutputChunk[] }
  | { kind: 'end'; id: number; value: unknown }
  | { kind: 'fail'; id: number; error: WireError }
  /** An engine process listens now: IPC messages sent before its listener exists are lost. */
  | { kind: 'listening' }
