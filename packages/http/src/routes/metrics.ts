import { Elysia } from 'elysia'
import type { ApiContext } from '../api-context.ts'

export const METRICS_PATH = '/metrics'

/** Prometheus metrics, in its text format; behind the API key unless the server makes it public. */
export const metricsRoute = (ctx: ApiContext) =>
  new Elysia().get(
    METRICS_PATH,
    async () => {
      const { text, contentType } = await ctx.observer.metrics.render()
      return new Response(text, { headers: { 'content-type': contentType } })
    },
    {
      detail: {
        tags: ['Health'],
        summary: 'Prometheus metrics',
        description: 'Requests, latencies, tokens, queues, model states and process memory in the Prometheus text format. Needs the API key unless the server runs with `--metrics-public`.',
      },
    },
  )
