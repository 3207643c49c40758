import type { HostMessage, WorkerMessage } from './worker-protocol.ts'

/**
 * How a `WorkerHost` reaches its engine module: one protocol, two transports (a Worker, a child process),
 * so the host's logic is written once.
 */
export interface EngineTransport {
  /** True when the call slots can live in shared memory (a Worker); false across a process. */
  readonly sharedMemory: boolean
  /** What an exit of the engine is called in errors ("Engine worker", "Engine process"). */
  readonly kind: string
  post(message: HostMessage, transfer?: Transferable[]): void
  onMessage(listener: (message: WorkerMessage) => void): void
  /** The engine died by itself (an uncaught error, a signal, an abort): never after `terminate()`. */
  onExit(listener: (reason: string) => void): void
  terminate(): void
}
