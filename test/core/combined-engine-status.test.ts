import { combineEngineStatus, type EngineStatus, type EngineStatusSource } from '@cy/core'
import { expect, test } from 'bun:test'

/** An engine host's status source the test drives. */
function source(): { onStatus: EngineStatusSource; say(status: EngineStatus): void } {
  const listeners = new Set<(status: EngineStatus) => void>()
  return { onStatus: (listener) => (listeners.add(listener), () => listeners.delete(listener)), say: (status) => listeners.forEach((l) => l(status)) }
}

test('several engine hosts read as one: failed over restarting over ready, each change said once', () => {
  const [a, b] = [source(), source()]
  const heard: EngineStatus[] = []
  const stop = combineEngineStatus([a.onStatus, b.onStatus])((status) => heard.push(status))
  a.say({ state: 'ready' })
  b.say({ state: 'restarting', reason: 'signal SIGKILL', attempt: 1 })
  a.say({ state: 'restarting', reason: 'abort', attempt: 1 })
  b.say({ state: 'ready' })
  a.say({ state: 'ready' })
  b.say({ state: 'failed', reason: 'five crashes in 60 s' })
  expect(heard).toEqual([
    { state: 'restarting', reason: 'signal SIGKILL', attempt: 1 },
    { state: 'restarting', reason: 'abort', attempt: 1 },
    { state: 'ready' },
    { state: 'failed', reason: 'five crashes in 60 s' },
  ])
  stop()
  a.say({ state: 'failed', reason: 'after unsubscribing' })
  expect(heard).toHaveLength(4)
})
