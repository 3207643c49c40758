import type { Registry } from 'prom-client'
import { LabelledMetric, type Labels, type MetricSample } from './labelled-metric.ts'

/** One label set's observations: a count per bucket (not cumulative), their sum and count. */
export class HistogramChild {
  readonly counts: number[]
  sum = 0
  count = 0

  constructor(
    readonly labels: Labels,
    readonly bounds: readonly number[],
  ) {
    this.counts = bounds.map(() => 0)
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return
    this.sum += value
    this.count++
    const bounds = this.bounds
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++
        return
      }
    }
  }
}

/** A Prometheus histogram by label set, with the given bucket upper bounds (ascending). */
export class LabelledHistogram extends LabelledMetric<HistogramChild> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, 'histogram', labelNames, registry)
  }

  protected create(labels: Labels): HistogramChild {
    return new HistogramChild(labels, this.buckets)
  }

  protected samples(child: HistogramChild, into: MetricSample[]): void {
    const bucket = `${this.name}_bucket`
    let cumulative = 0
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += child.counts[i]!
      into.push({ labels: { le: this.buckets[i]! }, sharedLabels: child.labels, value: cumulative, metricName: bucket })
    }
    into.push({ labels: { le: '+Inf' }, sharedLabels: child.labels, value: child.count, metricName: bucket })
    into.push({ labels: {}, sharedLabels: child.labels, value: child.sum, metricName: `${this.name}_sum` })
    into.push({ labels: {}, sharedLabels: child.labels, value: child.count, metricName: `${this.name}_count` })
  }
}
