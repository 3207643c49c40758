import type { OutputChunk } from '../chunks/output-chunk-factories.ts'
import type { WireError } from '../errors/error-from-wire.ts'

/**
 * Each call shares three Int32 slots with its Worker, so the per-chunk traffic needs no messages:
 * the cancel flag, the credit left (chunks the Worker may still send), and whether the Worker waits for credit.
 */
export const CALL_SLOTS = { abort: 0, credit: 1, waiting: 2 } as const

/** Messages from the main thread to an engine Worker. */
export type HostMessage =
  | { kind: 'call'; id: number; method: string; args: unknown; shared: Int32Array }
  /** Credit came back while the Worker waited for it (its `waiting` slot was set). */
  | { kind: 'wake'; id: number }
  | { kind: 'cancel'; id: number }

/** Messages from an engine Worker to the main thread. */
export type WorkerMessage =
  | { kind: 'chunk'; id: number; chunk: OutputChunk }
  /** The chunks of several calls at once (see `batchOutput`), in the order they were pushed. */
  | { kind: 'chunks'; ids: number[]; chunks: OutputChunk[] }
  | { kind: 'end'; id: number; value: unknown }
  | { kind: 'fail'; id: number; error: WireError }
