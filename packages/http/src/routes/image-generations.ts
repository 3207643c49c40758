import { ImageRequestSchema, NotFoundError, ProviderError, type ImageChunk, type ImageRequest } from '@cy/core'
import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { unixSeconds } from '../ids.ts'
import { extensionFor } from '../images/image-store.ts'
import { jsonResponse } from '../json-response.ts'
import { errorResponses } from '../wire/error-body.ts'
import { ImagesBody } from '../wire/images.ts'
import { IMAGE_FILES_PATH } from './image-files-path.ts'
import type { JsonRoute } from './json-route.ts'

export const imageGenerationsRoute: JsonRoute<ImageRequest> = {
  path: '/v1/images/generations',
  schema: ImageRequestSchema,
  response: { 200: ImagesBody, ...errorResponses },
  detail: {
    tags: ['Images'],
    summary: 'Generate images',
    description: '`b64_json` (default) or `url`: links served by this server for a limited time. `seed`, `negative_prompt`, `steps` and `cfg_scale` are extensions.',
  },
  async serve(ctx, image, request) {
    const channel = await ctx.dispatcher.dispatch('image', image, { signal: () => request.signal, trace: ctx.observer.record(request) })
    const images: ImageChunk[] = []
    for await (const chunk of channel) if (chunk.type === 'image') images.push(chunk)
    if (images.length === 0) throw new ProviderError('The model produced no image')
    const base = ctx.publicUrl ?? new URL(request.url).origin
    const data = images.map((chunk) => {
      const entry: Record<string, string> = {}
      if (image.response_format === 'url') {
        const mimeType = chunk.mimeType ?? 'image/png'
        entry.url = `${base}${IMAGE_FILES_PATH}${ctx.images.put(chunk.data, mimeType)}.${extensionFor(mimeType)}`
      } else {
        entry.b64_json = Buffer.from(chunk.data).toString('base64')
      }
      if (chunk.revisedPrompt) entry.revised_prompt = chunk.revisedPrompt
      return entry
    })
    return jsonResponse({ created: unixSeconds(), data })
  },
}

/** The links `response_format: "url"` hands out. */
export const imageFilesRoute = (ctx: ApiContext) =>
  new Elysia().get(
    `${IMAGE_FILES_PATH}:file`,
    ({ params }) => {
      const stored = ctx.images.get(params.file.replace(/\.[a-z]+$/, ''))
      if (!stored) throw new NotFoundError('This image does not exist or its link has expired', { param: 'file', code: 'image_not_found' })
      return new Response(stored.data as Uint8Array<ArrayBuffer>, { headers: { 'content-type': stored.mimeType, 'cache-control': 'private, max-age=3600' } })
    },
    { params: t.Object({ file: t.String() }), detail: { tags: ['Images'], summary: 'Fetch a generated image by its link' } },
  )
