import type { Backend } from './backend.ts'

type Build = (onPercent: (percent: number) => void) => Promise<string>

/**
 * Builds once per backend in this process: loads that ask while a build runs wait on it, and each gets
 * its percent. A build that fails is forgotten, so a later load tries again.
 */
export function buildOncePerBackend(): (backend: Backend, build: Build, onPercent?: (percent: number) => void) => Promise<string> {
  const builds = new Map<Backend, { done: Promise<string>; listeners: Set<(percent: number) => void> }>()
  return (backend, build, onPercent) => {
    let running = builds.get(backend)
    if (!running) {
      const listeners = new Set<(percent: number) => void>()
      const done = build((percent) => listeners.forEach((listener) => listener(percent)))
      running = { done, listeners }
      builds.set(backend, running)
      done.then(() => listeners.clear(), () => builds.delete(backend))
    }
    if (onPercent) running.listeners.add(onPercent)
    return running.done
  }
}
