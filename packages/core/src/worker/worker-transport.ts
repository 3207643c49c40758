import type { EngineTransport } from './engine-transport.ts'
import type { HostMessage, WorkerMessage } from './worker-protocol.ts'

/** The engine module on a Worker thread of this process: shared memory, and the process's fate. */
export class WorkerTransport implements EngineTransport {
  readonly sharedMemory = true
  readonly kind = 'Engine worker'
  readonly #worker: Worker
  #exit: (reason: string) => void = () => {}
  #terminated = false

  constructor(url: string | URL, name: string) {
    this.#worker = new Worker(url, { name } as WorkerOptions)
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.()
      if (this.#terminated) return
      this.terminate()
      this.#exit(`crashed: ${event.message}`)
    }
  }

  post(message: HostMessage, transfer?: Transferable[]): void {
    if (this.#terminated) return
    if (transfer?.length) this.#worker.postMessage(message, transfer)
    else this.#worker.postMessage(message)
  }

  onMessage(listener: (message: WorkerMessage) => void): void {
    this.#worker.onmessage = (event: MessageEvent<WorkerMessage>) => listener(event.data)
  }

  onExit(listener: (reason: string) => void): void {
    this.#exit = listener
  }

  terminate(): void {
    if (this.#terminated) return
    this.#terminated = true
    this.#worker.terminate()
  }
}
