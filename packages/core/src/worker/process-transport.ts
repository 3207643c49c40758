import type { Subprocess } from 'bun'
import type { EngineTransport } from './engine-transport.ts'
import type { HostMessage, WorkerMessage } from './worker-protocol.ts'

const CHILD_ENTRY = new URL('./process-child-entry.ts', import.meta.url).pathname

/**
 * The engine module in a child process of its own, over Bun's IPC channel ('advanced' serialization:
 * typed arrays such as embeddings arrive as typed arrays). A native abort or an out-of-memory kill ends
 * that process only; the host sees its exit code or signal.
 */
export class ProcessTransport implements EngineTransport {
  readonly sharedMemory = false
  readonly kind = 'Engine process'
  readonly #child: Subprocess
  #listener: (message: WorkerMessage) => void = () => {}
  #exit: (reason: string) => void = () => {}
  #terminated = false
  /** Messages posted before the child listens (see 'listening'). */
  #early: HostMessage[] | undefined = []

  constructor(url: string | URL, name: string) {
    const moduleUrl = url instanceof URL ? url.href : url
    this.#child = Bun.spawn([process.execPath, CHILD_ENTRY, moduleUrl, name], {
      stdio: ['ignore', 'inherit', 'inherit'],
      serialization: 'advanced',
      ipc: (message: WorkerMessage) => {
        if (message.kind !== 'listening') return this.#listener(message)
        const early = this.#early ?? []
        this.#early = undefined
        for (const queued of early) this.#child.send(queued)
      },
      onExit: (_child, exitCode, signalCode) => {
        if (this.#terminated) return
        this.#terminated = true
        this.#exit(signalCode ? `exited (signal ${signalCode})` : `exited (code ${exitCode})`)
      },
    })
  }

  /** The child's process id (tests and logs). */
  get pid(): number {
    return this.#child.pid
  }

  post(message: HostMessage): void {
    // Buffers are copied, never transferred, across a process.
    if (this.#terminated) return
    if (this.#early) this.#early.push(message)
    else this.#child.send(message)
  }

  onMessage(listener: (message: WorkerMessage) => void): void {
    this.#listener = listener
  }

  onExit(listener: (reason: string) => void): void {
    this.#exit = listener
  }

  terminate(): void {
    if (this.#terminated) return
    this.#terminated = true
    // A child stuck in native code never reads a polite request.
    this.#child.kill('SIGKILL')
  }
}
