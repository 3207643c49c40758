/**
 * A Bun child process spoken to over IPC, one request at a time: the benchmark's servers and its load
 * client each run in one, so none of them shares an event loop with another.
 */
import type { Subprocess } from 'bun'

/** No single reply may take longer than this: a hung child ends the run instead of hanging it. */
const REPLY_TIMEOUT_MS = 120_000

export class ChildProcess<Command, Reply extends { type: string }> {
  readonly #proc: Subprocess
  readonly #replies: Reply[] = []
  #waiter: ((reply: Reply | Error) => void) | undefined
  #exit: Error | undefined

  constructor(script: string, args: readonly string[], options: { env?: Record<string, string>; bunFlags?: readonly string[] } = {}) {
    this.#proc = Bun.spawn({
      cmd: [process.execPath, ...(options.bunFlags ?? []), script, ...args],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit'],
      ipc: (message: Reply) => {
        const waiter = this.#waiter
        this.#waiter = undefined
        if (waiter) waiter(message)
        else this.#replies.push(message)
      },
      onExit: (_proc, code, signal) => {
        this.#exit = new Error(`${script} ${args.join(' ')} exited (code ${code}, signal ${signal})`)
        const waiter = this.#waiter
        this.#waiter = undefined
        waiter?.(this.#exit)
      },
    })
  }

  /** The next message from the child. */
  next(): Promise<Reply> {
    const queued = this.#replies.shift()
    if (queued) return Promise.resolve(queued)
    if (this.#exit) return Promise.reject(this.#exit)
    if (this.#waiter) return Promise.reject(new Error('One request at a time'))
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined
        reject(new Error(`No reply from the child within ${REPLY_TIMEOUT_MS} ms`))
      }, REPLY_TIMEOUT_MS)
      this.#waiter = (reply) => {
        clearTimeout(timer)
        if (reply instanceof Error) reject(reply)
        else resolve(reply)
      }
    })
  }

  /** Waits for the next message and checks its type. */
  async expect<T extends Reply['type']>(type: T): Promise<Extract<Reply, { type: T }>> {
    const reply = await this.next()
    if (reply.type !== type) throw new Error(`Expected a "${type}" message, got ${JSON.stringify(reply)}`)
    return reply as Extract<Reply, { type: T }>
  }

  send(command: Command): void {
    if (this.#exit) throw this.#exit
    this.#proc.send(command)
  }

  async request<T extends Reply['type']>(command: Command, type: T): Promise<Extract<Reply, { type: T }>> {
    this.send(command)
    return this.expect(type)
  }

  /** Asks the child to stop, then kills it if it has not gone within a second. */
  async stop(command: Command): Promise<void> {
    if (this.#exit) return
    try {
      this.#proc.send(command)
    } catch {
      // Already gone.
    }
    const exited = this.#proc.exited.then(() => true)
    if (!(await Promise.race([exited, Bun.sleep(1000).then(() => false)]))) this.#proc.kill()
    await this.#proc.exited
  }
}
