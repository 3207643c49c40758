import { resolve } from 'node:path'

const MAIN = resolve(import.meta.dir, '../../apps/server/src/main.ts')

/** `bun run apps/server` as a user starts it, in its own process, with its log followed. */
export interface ServerProcess {
  /** The API's base URL, from the banner (once `ready` has resolved). */
  url: string
  /** Everything it printed so far (stdout and stderr). */
  log(): string
  /** Resolves once the log has said `text`; throws once it says `failure` or the process exits. */
  logged(text: string, failure: string): Promise<void>
  /** Whether the process is still running. */
  running(): boolean
  stop(): Promise<void>
}

/** Starts the server app in `cwd` with `args` (port 0 on loopback, no responses database added by itself). */
export async function startServerProcess(cwd: string, args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = Bun.spawn([process.execPath, MAIN, '--port', '0', '--host', '127.0.0.1', ...args], {
    cwd,
    env: { ...process.env, CY_LOG_LEVEL: 'warn', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let log = ''
  const waiters: Array<() => void> = []
  const follow = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    const reader = stream.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      log += decoder.decode(read.value)
      for (const wake of waiters.splice(0)) wake()
    }
    for (const wake of waiters.splice(0)) wake()
  }
  void follow(child.stdout)
  void follow(child.stderr)
  const until = async (holds: () => boolean, what: string, failure: string) => {
    while (!holds()) {
      if (child.exitCode !== null || log.includes(failure)) throw new Error(`The server did not say '${what}':\n${log}`)
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
  const banner = /API\s+(http:\/\/[^\s/]+)\/v1/
  const server: ServerProcess = {
    url: '',
    log: () => log,
    logged: (text, failure) => until(() => log.includes(text), text, failure),
    running: () => child.exitCode === null,
    async stop() {
      child.kill('SIGTERM')
      await child.exited
    },
  }
  await until(() => banner.test(log), 'API http://…/v1', 'EADDRINUSE')
  server.url = banner.exec(log)![1]!
  return server
}

/** Reads a streamed body until `until` holds for its text so far (or it ends); returns the text. */
export async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, until: (text: string) => boolean): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  while (!until(text)) {
    const { done, value } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  return text
}
