import { CatalogModelNotFoundError, toApiError } from '@cy/core'
import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import type { BuiltinModelControl } from '../builtin-model-control.ts'
import { jsonResponse } from '../json-response.ts'
import { SSE_HEADERS, sseEvent } from '../sse/sse-frame.ts'
import { BuiltinModelList, BuiltinModelObject, type BuiltinModelBody } from '../wire/builtin-models.ts'
import { ErrorBody } from '../wire/error-body.ts'

/** Progress events at most this often (the final byte count is always sent). */
const PROGRESS_EVERY_MS = 200

function control(ctx: ApiContext, id: string): BuiltinModelControl {
  if (!ctx.builtin?.get(id)) throw new CatalogModelNotFoundError(id)
  return ctx.builtin
}

/**
 * Progress as SSE: `event: progress` frames, then `event: done` with the entry or `event: error` with an
 * OpenAI-shaped error, and the stream ends. A client that leaves stops hearing; the download goes on
 * (cancel it with `DELETE /models/builtin/{id}/download`).
 */
function downloadStream(builtin: BuiltinModelControl, id: string): Response {
  const encoder = new TextEncoder()
  let send: ((frame: string) => void) | undefined
  let last = 0
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      send = (frame) => {
        try {
          controller.enqueue(encoder.encode(frame))
        } catch {
          send = undefined // the client left
        }
      }
      // At most one event per period, the latest count; a pending one is sent when the period ends, so a
      // download that stalls still shows how far it got.
      let pending: [number, number] | undefined
      let timer: ReturnType<typeof setTimeout> | undefined
      const flush = () => {
        timer = undefined
        if (!pending) return
        const [done, total] = pending
        pending = undefined
        last = Date.now()
        send?.(sseEvent('progress', JSON.stringify({ id, state: 'downloading', done_bytes: done, total_bytes: total })))
      }
      const progress = (done: number, total: number) => {
        pending = [done, total]
        if (done === total || Date.now() - last >= PROGRESS_EVERY_MS) {
          clearTimeout(timer)
          flush()
        } else timer ??= setTimeout(flush, PROGRESS_EVERY_MS - (Date.now() - last))
      }
      builtin.download(id, progress).then(
        (entry) => send?.(sseEvent('done', JSON.stringify(entry))),
        (error: unknown) => send?.(sseEvent('error', JSON.stringify(toApiError(error).toJSON()))),
      ).finally(() => {
        clearTimeout(timer)
        if (send) controller.close()
        send = undefined
      })
    },
    cancel() {
      send = undefined
    },
  })
  return new Response(body, { headers: SSE_HEADERS })
}

const IdParams = t.Object({ model_id: t.String() })
const entry = (body: BuiltinModelBody) => jsonResponse(body)

/**
 * Seed 002's catalog routes, behind the API key: `GET /models/builtin`, `POST /models/builtin/{id}/download`
 * (`?stream=true` for SSE progress; otherwise answered once downloaded, as Ollama's `stream: false` pull),
 * `DELETE /models/builtin/{id}/download` (cancel) and `DELETE /models/builtin/{id}` (delete the files).
 */
export const builtinModelsRoute = (ctx: ApiContext) =>
  new Elysia()
    .get('/models/builtin', () => jsonResponse({ object: 'list', data: ctx.builtin?.list() ?? [] }), {
      response: { 200: BuiltinModelList },
      detail: { tags: ['Builtin models'], summary: 'List the model catalog', description: 'Each entry with its state: `not_downloaded`, `downloading` (with `progress`), `downloaded` or `loaded`.' },
    })
    .get('/models/builtin/:model_id', ({ params }) => entry(control(ctx, params.model_id).get(params.model_id)!), {
      params: IdParams,
      response: { 200: BuiltinModelObject, 404: ErrorBody },
      detail: { tags: ['Builtin models'], summary: 'Retrieve a catalog entry' },
    })
    .post(
      '/models/builtin/:model_id/download',
      async ({ params, query }) => {
        const builtin = control(ctx, params.model_id)
        if (query.stream === 'true') return downloadStream(builtin, params.model_id)
        return entry(await builtin.download(params.model_id))
      },
      {
        params: IdParams,
        query: t.Object({ stream: t.Optional(t.Union([t.Literal('true'), t.Literal('false')])) }),
        response: { 200: BuiltinModelObject, 404: ErrorBody, 502: ErrorBody },
        detail: {
          tags: ['Builtin models'],
          summary: 'Download a catalog model',
          description:
            'Starts the download from the Hugging Face hub (HF_ENDPOINT, HF_TOKEN), or joins the one running: one download per model however many callers. ' +
            'Without `stream`, answers with the entry once it is downloaded and served. With `?stream=true`, `text/event-stream`: ' +
            '`event: progress` (`{ id, state, done_bytes, total_bytes }`), then `event: done` (the entry) or `event: error` (an error body). ' +
            'The download goes on when the client leaves; a download cut off is resumed where it stopped.',
        },
      },
    )
    .delete(
      '/models/builtin/:model_id/download',
      async ({ params }) => {
        const builtin = control(ctx, params.model_id)
        await builtin.cancel(params.model_id)
        return entry(builtin.get(params.model_id)!)
      },
      {
        params: IdParams,
        response: { 200: BuiltinModelObject, 404: ErrorBody },
        detail: { tags: ['Builtin models'], summary: 'Cancel a download', description: 'Stops a download in progress; its partial file stays, so the next download resumes it.' },
      },
    )
    .delete('/models/builtin/:model_id', async ({ params }) => entry(await control(ctx, params.model_id).remove(params.model_id)), {
      params: IdParams,
      response: { 200: BuiltinModelObject, 404: ErrorBody, 409: ErrorBody },
      detail: {
        tags: ['Builtin models'],
        summary: 'Delete a downloaded model',
        description: 'Deletes its files from the Hugging Face cache and stops serving it. 409 while it is downloading (cancel first) or loaded (`POST /v1/models/{id}/unload` first).',
      },
    })
