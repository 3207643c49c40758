import { describe, expect, test } from 'bun:test'
import { Dispatcher, ModelRegistry, type ChatRequest, type OutputSink } from '@cy/core'

const chat = (model: string, content: string): ChatRequest => ({ model, messages: [{ role: 'user', content }] })

/** A registry with one model whose requests stay open until the test ends them; `limits` gives it its own slots. */
function setup(options: { serverSlots?: number; modelSlots?: number }) {
  const registry = new ModelRegistry()
  const running: Array<{ content: string; out: OutputSink }> = []
  registry.register('m', { chat: (request, out) => void running.push({ content: String(request.messages[0]!.content), out }) }, options.modelSlots ? { limits: { maxConcurrency: options.modelSlots } } : {})
  const dispatcher = new Dispatcher(registry, { timeoutMs: 0, ...(options.serverSlots ? { maxConcurrency: options.serverSlots } : {}) })
  return { dispatcher, running }
}

/** Fills the only slot, queues requests of the given priorities in order, then ends each running one in turn: the order they ran. */
async function runOrder(dispatcher: Dispatcher, running: Array<{ content: string; out: OutputSink }>, queued: Array<[string, number | undefined]>): Promise<string[]> {
  await dispatcher.dispatch('chat', chat('m', 'holder'))
  const waiting = queued.map(([content, priority]) => dispatcher.dispatch('chat', chat('m', content), priority === undefined ? {} : { priority }))
  expect(dispatcher.waiting).toBe(queued.length)
  for (let index = 0; index < queued.length; index++) {
    running[index]!.out.end()
    // The freed slot goes to the next waiter, whose handler then starts.
    while (running.length < index + 2) await new Promise((resolve) => setImmediate(resolve))
  }
  running.at(-1)!.out.end()
  await Promise.all(waiting)
  return running.map((entry) => entry.content)
}

describe('DispatchOptions.priority', () => {
  const queued: Array<[string, number | undefined]> = [
    ['low', -1],
    ['first default', undefined],
    ['high', 4],
    ['second default', 0],
  ]
  const expected = ['holder', 'high', 'first default', 'second default', 'low']

  test("orders the model's own queue", async () => {
    const { dispatcher, running } = setup({ modelSlots: 1 })
    expect(await runOrder(dispatcher, running, queued)).toEqual(expected)
  })

  test('orders the server-wide queue', async () => {
    const { dispatcher, running } = setup({ serverSlots: 1 })
    expect(await runOrder(dispatcher, running, queued)).toEqual(expected)
  })
})
