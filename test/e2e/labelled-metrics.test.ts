import { describe, expect, test } from 'bun:test'
// prom-client is the http package's dependency, not the tests'; it is the reference here.
import { Counter, Histogram, Registry } from '../../packages/http/node_modules/prom-client'
import { LabelledCounter } from '../../packages/http/src/observability/labelled-counter.ts'
import { LabelledHistogram } from '../../packages/http/src/observability/labelled-histogram.ts'

const BUCKETS = [0.01, 0.1, 1, 10]
// Several label sets, a value on a bound, one past every bound, and label values that need escaping.
const OBSERVATIONS: Array<[string, string, number]> = [
  ['/v1/chat/completions', 'a', 0.05],
  ['/v1/chat/completions', 'a', 0.1],
  ['/v1/completions', 'b"x\\y\nz', 42],
  ['/v1/chat/completions', 'a', 3],
  ['unmatched', '', 0.001],
]

describe('labelled metrics (the server metrics updated without prom-client on the request path)', () => {
  test('a histogram renders what prom-client renders for the same observations', async () => {
    const ours = new Registry()
    const theirs = new Registry()
    const histogram = new LabelledHistogram('h_seconds', 'help text', ['route', 'model'], BUCKETS, ours)
    const reference = new Histogram({ name: 'h_seconds', help: 'help text', labelNames: ['route', 'model'], buckets: BUCKETS, registers: [theirs] })
    for (const [route, model, value] of OBSERVATIONS) {
      histogram.child(route, model).observe(value)
      reference.observe({ route, model }, value)
    }
    expect(await ours.metrics()).toBe(await theirs.metrics())
  })

  test('a counter renders what prom-client renders, a numeric label included', async () => {
    const ours = new Registry()
    const theirs = new Registry()
    const counter = new LabelledCounter('c_total', 'help text', ['route', 'model', 'status'], ours)
    const reference = new Counter({ name: 'c_total', help: 'help text', labelNames: ['route', 'model', 'status'], registers: [theirs] })
    for (const [route, model, value] of OBSERVATIONS) {
      const status = value > 1 ? 500 : 200
      counter.child(route, model, status).value += 2
      reference.inc({ route, model, status }, 2)
    }
    expect(await ours.metrics()).toBe(await theirs.metrics())
    expect(await ours.metrics()).toContain('c_total{route="/v1/chat/completions",model="a",status="200"} 4')
  })
})
