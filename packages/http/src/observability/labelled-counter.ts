import type { Registry } from 'prom-client'
import { LabelledMetric, type Labels, type MetricSample } from './labelled-metric.ts'

export interface CounterChild {
  readonly labels: Labels
  value: number
}

/** A Prometheus counter by label set; `child(...).value += n` counts. */
export class LabelledCounter extends LabelledMetric<CounterChild> {
  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry) {
    super(name, help, 'counter', labelNames, registry)
  }

  protected create(labels: Labels): CounterChild {
    return { labels, value: 0 }
  }

  protected samples(child: CounterChild, into: MetricSample[]): void {
    into.push({ labels: child.labels, value: child.value })
  }
}
