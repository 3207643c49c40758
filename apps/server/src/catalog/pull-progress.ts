import { Presets, SingleBar } from 'cli-progress'

const MB = 1024 * 1024
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`

/** Plain lines at most every this many percent (logs, pipes, CI). */
const LINE_STEP = 10

/**
 * Shows a download as it goes: on a terminal a `cli-progress` bar (bytes, speed, ETA), elsewhere a line every
 * 10 % (`pulling x: 40% (19.5 of 48.8 MB)`). Returns the progress callback and `stop` to end the display.
 */
export function downloadProgress(label: string, tty: boolean, log: (line: string) => void): { update: (done: number, total: number) => void; stop: () => void } {
  if (tty) {
    const bar = new SingleBar(
      { format: ` ${label} [{bar}] {percentage}% {done} of {all} {speed} ETA {eta_formatted}`, hideCursor: true, stream: process.stderr },
      Presets.shades_classic,
    )
    const started = Date.now()
    let begun = false
    return {
      update(done, total) {
        const speed = `${mb(done / Math.max((Date.now() - started) / 1000, 0.001))}/s`
        if (!begun) bar.start(Math.max(total, 1), done, { done: mb(done), all: mb(total), speed })
        begun = true
        bar.setTotal(Math.max(total, 1))
        bar.update(done, { done: mb(done), all: mb(total), speed })
      },
      stop: () => bar.stop(),
    }
  }
  let shown = -1
  return {
    update(done, total) {
      if (total <= 0) return
      const percent = Math.floor((done * 100) / total)
      const step = Math.floor(percent / LINE_STEP) * LINE_STEP
      if (step <= shown) return
      shown = step
      log(`pulling ${label}: ${step}% (${mb(done)} of ${mb(total)})`)
    },
    stop: () => {},
  }
}
