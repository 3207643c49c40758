import { mkdirSync, rmSync, statSync } from 'node:fs'
import { dirname } from 'node:path'

/** A lock older than the slowest build belongs to a process that died. */
const STALE_LOCK_MS = 30 * 60 * 1000

/**
 * Runs `work` holding `<dir>.lock`: one build of a folder at a time, across processes too (a test run
 * and a benchmark may start together). The lock is a directory: mkdir is atomic.
 */
export async function withBuildLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`
  mkdirSync(dirname(lock), { recursive: true })
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true })
      } catch {
        // released meanwhile
      }
      await Bun.sleep(500)
    }
  }
  try {
    return await work()
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}
