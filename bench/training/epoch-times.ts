import { readFileSync } from 'node:fs'

/** A point of a run: wall-clock ms (performance.now) and the training process's CPU seconds so far; or, from epochTimes, an epoch's wall and CPU seconds. */
export interface Stamp {
  wall: number
  cpu: number
}

/** When each training window of a run ended, grouped by epoch. */
export type EpochStamps = Stamp[][]

// /proc/<pid>/stat counts in clock ticks: 100 a second on Linux (sysconf(_SC_CLK_TCK)), 10 ms a tick.
const CLOCK_TICKS = 100

/** A process's user + system CPU seconds, all its threads (Linux's /proc; NaN elsewhere). */
export function cpuSeconds(pid: number | 'self'): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return NaN
  }
}

export const stamp = (pid: number | 'self'): Stamp => ({ wall: performance.now(), cpu: cpuSeconds(pid) })

/**
 * Each epoch's wall seconds and CPU seconds, from the end of the previous epoch's last window to the end
 * of its own last window: every window's forward, backward and AdamW step, and nothing of loading. The
 * first epoch has no previous end, so it is the warm-up and not counted.
 */
export function epochTimes(stamps: EpochStamps): Stamp[] {
  return stamps.slice(1).map((epoch, i) => {
    const [from, to] = [stamps[i]!.at(-1)!, epoch.at(-1)!]
    return { wall: (to.wall - from.wall) / 1000, cpu: to.cpu - from.cpu }
  })
}
