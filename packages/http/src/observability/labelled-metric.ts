import type { Metric, Registry } from 'prom-client'

/** A child's label values by name, as given (a status stays a number, as prom-client keeps it). */
export type Labels = Record<string, LabelValue>
export type LabelValue = string | number

/** One exposition line's data, in the shape prom-client's registry formats (and escapes). */
export interface MetricSample {
  metricName?: string
  labels: Record<string, string | number>
  /** The child's own labels; `labels` adds a histogram's `le`. */
  sharedLabels?: Labels
  value: number
}

/**
 * A counter or histogram whose children (one per label set) live in a Map and are updated with plain
 * arithmetic: prom-client's own `inc` and `observe` copy, validate and hash the labels on every call, which
 * was a good part of each request's cost. Registered in a prom-client registry, which formats it with the
 * others, so the exposition is the one prom-client's own metrics give.
 */
export abstract class LabelledMetric<Child extends { labels: Labels }> {
  readonly aggregator = 'sum'
  readonly #children = new Map<LabelValue, unknown>()
  /** The children in the order they were made (the exposition's order). */
  #order: Child[] = []

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    if (labelNames.length < 1 || labelNames.length > 3) throw new RangeError('A labelled metric has one to three labels')
    registry.registerMetric(this as unknown as Metric)
  }

  /**
   * The child of these label values (in `labelNames`' order), made on first use. Looked up through one
   * Map per label: no key string is built on the request's path.
   */
  child(first: LabelValue, second?: LabelValue, third?: LabelValue): Child {
    const depth = this.labelNames.length
    let level = this.#children as Map<LabelValue, unknown>
    for (let i = 0; i < depth - 1; i++) {
      const value = i === 0 ? first : second!
      let next = level.get(value) as Map<LabelValue, unknown> | undefined
      if (!next) level.set(value, (next = new Map()))
      level = next
    }
    const last = depth === 1 ? first : depth === 2 ? second! : third!
    let child = level.get(last) as Child | undefined
    if (!child) {
      const values = [first, second, third]
      child = this.create(Object.fromEntries(this.labelNames.map((name, i) => [name, values[i]!])))
      level.set(last, child)
      this.#order.push(child)
    }
    return child
  }

  reset(): void {
    this.#children.clear()
    this.#order = []
  }

  /** What the text exposition reads (labels apart from a histogram's `le`). */
  async getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricSample[] }> {
    const values: MetricSample[] = []
    for (const child of this.#order) this.samples(child, values)
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** What `getMetricsAsJSON` reads: each sample's labels in one object. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricSample[] }> {
    const data = await this.getForPromString()
    data.values = data.values.map(({ sharedLabels, labels, ...sample }) => ({ ...sample, labels: { ...labels, ...sharedLabels } }))
    return data
  }

  protected abstract create(labels: Labels): Child
  protected abstract samples(child: Child, into: MetricSample[]): void
}
