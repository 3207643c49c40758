import { describe, expect, test } from 'bun:test'
import { StopMatcher } from '../../packages/adapter-llama/src/engine/stop-matcher.ts'

/** Feeds pieces one by one; returns what was sent and whether it stopped. */
function run(stops: string[], pieces: string[]) {
  const matcher = new StopMatcher(stops)
  let sent = ''
  for (const piece of pieces) {
    const { emit, stopped } = matcher.push(piece)
    sent += emit
    if (stopped) return { sent, stopped: true }
  }
  return { sent: sent + matcher.flush(), stopped: false }
}

describe('stop strings', () => {
  test('a stop string split across pieces is found and not sent', () => {
    expect(run(['END'], ['hello E', 'N', 'D and more'])).toEqual({ sent: 'hello ', stopped: true })
  })

  test('text that only looked like a stop string is sent once it is clear', () => {
    const matcher = new StopMatcher(['END'])
    expect(matcher.push('hello EN')).toEqual({ emit: 'hello ', stopped: false })
    expect(matcher.push('X')).toEqual({ emit: 'ENX', stopped: false })
  })

  test('the earliest of several stop strings wins', () => {
    expect(run(['cd', 'b'], ['abcd'])).toEqual({ sent: 'a', stopped: true })
  })

  test('without stop strings everything goes out at once; held text is flushed at the end', () => {
    expect(run([], ['a', 'b'])).toEqual({ sent: 'ab', stopped: false })
    expect(run(['xyz'], ['abc x'])).toEqual({ sent: 'abc x', stopped: false })
  })
})
