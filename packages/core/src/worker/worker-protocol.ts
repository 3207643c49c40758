import type { OutputChunk } from '../chunks/output-chunk-factories.ts'
import type { WireError } from '../errors/error-from-wire.ts'

/** Messages from the main thread to an engine Worker. */
export type HostMessage =
  | { kind: 'call'; id: number; method: string; args: unknown; abortFlag: Int32Array; credit: number }
  | { kind: 'credit'; id: number; credit: number }
  | { kind: 'cancel'; id: number }

/** Messages from an engine Worker to the main thread. */
export type WorkerMessage =
  | { kind: 'chunk'; id: number; chunk: OutputChunk }
  | { kind: 'end'; id: number; value: unknown }
  | { kind: 'fail'; id: number; error: WireError }
