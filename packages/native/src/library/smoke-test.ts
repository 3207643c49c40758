import { SmokeTestError } from './smoke-test-error.ts'

/** What a smoke script prints as JSON on its last line of stdout: at least the engine's version. */
export interface SmokeResult {
  version: string
  [key: string]: unknown
}

export interface SmokeTestOptions {
  /** Kills a child that hangs (default 60 s). */
  timeoutMs?: number
  /** Runs again after a failure this many times (default 1): a load can fail once when several processes start together. */
  retries?: number
  log?: (line: string) => void
}

/** The stderr a failure keeps: all of it, up to this many characters (its tail past that). */
const STDERR_LIMIT = 64 * 1024

const passed = new Map<string, Promise<SmokeResult>>()

async function runOnce(script: string, dir: string, timeoutMs: number): Promise<SmokeResult> {
  const child = Bun.spawn([process.execPath, script, dir], { stdout: 'pipe', stderr: 'pipe' })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, timeoutMs)
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()])
  clearTimeout(timer)
  const kept = stderr.trim().slice(-STDERR_LIMIT)
  if (timedOut) throw new SmokeTestError(`it did not load within ${timeoutMs / 1000} s${kept ? `; its stderr:\n${kept}` : ''}`)
  if (code !== 0) throw new SmokeTestError(`it failed to load (exit ${code})${kept ? `; its stderr:\n${kept}` : ''}`)
  try {
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as SmokeResult
    if (typeof result.version !== 'string') throw new Error('no version')
    return result
  } catch {
    throw new SmokeTestError(`its smoke test printed no result (stdout: ${JSON.stringify(stdout.slice(-500))})`)
  }
}

/**
 * Loads an engine library in a child process (`bun <script> <dir>`): one that crashes on load (wrong
 * CPU, missing driver, not the engine at all) takes down the child, not the server. A failure is
 * retried once and keeps the child's whole stderr; a success is remembered per script and folder.
 */
export function smokeTestLibrary(script: string, dir: string, options: SmokeTestOptions = {}): Promise<SmokeResult> {
  const key = `${script}\0${dir}`
  let result = passed.get(key)
  if (!result) {
    result = (async () => {
      const retries = options.retries ?? 1
      for (let attempt = 0; ; attempt++) {
        try {
          return await runOnce(script, dir, options.timeoutMs ?? 60_000)
        } catch (error) {
          if (attempt >= retries) throw error
          options.log?.(`smoke test of ${dir} failed, trying once more: ${(error as Error).message}`)
        }
      }
    })()
    passed.set(key, result)
    // Only successes are remembered: a library fixed (or a driver installed) is seen on the next load.
    result.catch(() => passed.delete(key))
  }
  return result
}
