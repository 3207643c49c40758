import { ImageRequestSchema, NotFoundError, type ImageRequest } from '@cy/core'
import { Elysia, t } from 'elysia'
import type { ApiContext } from '../api-context.ts'
import { serveImages } from '../images/serve-images.ts'
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
    description:
      '`b64_json` (default) or `url`: links served by this server for an hour. `output_format` png, jpeg or webp. `stream: true` with `partial_images` 0–3 sends `image_generation.partial_image` events, then `image_generation.completed`. Extensions: `negative_prompt`, `seed`, `steps`, `cfg_scale`, `sampler`, `scheduler`, `clip_skip`, `loras`.',
  },
  serve: (ctx, image, request) => serveImages(ctx, image, request, 'image_generation'),
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
