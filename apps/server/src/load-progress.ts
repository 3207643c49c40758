import type { ModelRegistry, ModelStatus } from '@cy/core'
import { MultiBar, Presets, type SingleBar } from 'cli-progress'

export interface LoadProgressOptions {
  registry: ModelRegistry
  /** The models to follow (not their aliases, which share their state). */
  names: () => string[]
  log: (line: string) => void
  /** Draw bars (stderr is a terminal); otherwise one plain line per stage. */
  tty: boolean
}

/** Stages of a load, in order: a bar without a percentage counts them. */
const STAGES = ['queued', 'loading']

/**
 * Shows the models' loads as they go: on a terminal a bar per load (its percent when the loader reports
 * one, else its stage), elsewhere a line per stage with the time since it was queued.
 */
export function followLoads(options: LoadProgressOptions): () => void {
  const started = new Map<string, number>()
  const bars = new Map<string, SingleBar>()
  const multi = options.tty
    ? new MultiBar({ format: ' {model} [{bar}] {percentage}% {stage} {elapsed}', hideCursor: true, clearOnComplete: true, stopOnComplete: false, stream: process.stderr }, Presets.shades_classic)
    : undefined
  const finish = (name: string) => {
    const bar = bars.get(name)
    if (bar) {
      bar.update(100)
      multi!.remove(bar)
      bars.delete(name)
    }
    started.delete(name)
  }
  const off = options.registry.onStatus((name, status: ModelStatus) => {
    if (!options.names().includes(name)) return
    if (status.state !== 'loading') return finish(name)
    const stage = status.progress?.stage ?? 'loading'
    if (!started.has(name)) started.set(name, Date.now())
    const elapsed = `${Date.now() - started.get(name)!} ms`
    const index = STAGES.indexOf(stage)
    const percent = status.progress?.percent ?? (index >= 0 ? (index * 100) / STAGES.length : 50)
    if (!multi) return options.log(`model '${name}' ${stage}${status.progress?.percent !== undefined ? ` ${status.progress.percent}%` : ''} (${elapsed})`)
    const bar = bars.get(name) ?? multi.create(100, 0, { model: name, stage, elapsed })
    bars.set(name, bar)
    bar.update(percent, { stage, elapsed })
  })
  return () => {
    off()
    multi?.stop()
  }
}
