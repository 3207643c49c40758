import { ProviderError, type ImageChunk, type ImageRequest, type ProgressChunk, type UsageChunk } from '@cy/core'
import type { ApiContext } from '../api-context.ts'
import { ImageStreamEncoder } from '../encoders/image-events.ts'
import { unixSeconds } from '../ids.ts'
import { jsonResponse } from '../json-response.ts'
import { IMAGE_FILES_PATH } from '../routes/image-files-path.ts'
import { eventStream } from '../sse/stream-response.ts'
import { extensionFor } from './image-store.ts'
import { imageFacts, imageUsage, inRequestedFormat } from './image-output.ts'

/**
 * The one path of both image routes once their bodies are read: dispatch, then OpenAI's JSON (links or
 * base64, with usage and the facts of the images) or its event stream.
 */
export async function serveImages(ctx: ApiContext, image: ImageRequest, request: Request, kind: 'image_generation' | 'image_edit'): Promise<Response> {
  const facts = imageFacts(image)
  const channel = await ctx.dispatcher.dispatch('image', image, { signal: () => request.signal, trace: ctx.observer.record(request) })
  const onProgress = (chunk: ProgressChunk) => ctx.observer.progress(request, chunk)
  if (image.stream) return eventStream(channel, channel.take(), new ImageStreamEncoder(kind, facts, onProgress), ctx.stream)
  const images: ImageChunk[] = []
  let usage: UsageChunk | undefined
  for await (const chunk of channel) {
    if (chunk.type === 'image') images.push(chunk)
    else if (chunk.type === 'usage') usage = chunk
    else if (chunk.type === 'progress') onProgress(chunk)
  }
  if (images.length === 0) throw new ProviderError('The model produced no image')
  images.sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
  const base = ctx.publicUrl ?? new URL(request.url).origin
  const data = await Promise.all(
    images.map(async (original) => {
      const chunk = await inRequestedFormat(original, facts)
      const entry: Record<string, string> = {}
      if (image.response_format === 'url') {
        const mimeType = chunk.mimeType ?? 'image/png'
        entry.url = `${base}${IMAGE_FILES_PATH}${ctx.images.put(chunk.data, mimeType)}.${extensionFor(mimeType)}`
      } else {
        entry.b64_json = Buffer.from(chunk.data).toString('base64')
      }
      if (chunk.revisedPrompt) entry.revised_prompt = chunk.revisedPrompt
      return entry
    }),
  )
  const body: Record<string, unknown> = { created: unixSeconds(), data, background: facts.background, output_format: facts.outputFormat }
  if (facts.size !== 'auto') body.size = facts.size
  if (facts.quality !== 'auto') body.quality = facts.quality
  if (usage) body.usage = imageUsage(usage)
  return jsonResponse(body)
}
