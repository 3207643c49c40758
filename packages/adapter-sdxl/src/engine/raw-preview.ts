import { interceptedSink, type OutputChunk, type OutputSink, type PartialImageChunk } from '@cy/core'
import { encodeImage, type ImageFormat } from '@cy/image'
import type { NativeImage } from '../native/sd-native.ts'

/**
 * A preview frame as the generating Worker sends it: raw pixels. Inside generate_image that thread
 * cannot await an encoder, so the frame goes out at once, and the thread that relays the call (free
 * meanwhile) encodes it into an `image-partial` chunk (see encodePreviews).
 */
const RAW_PREVIEW = 'application/x-cy-raw-pixels'

interface RawPreviewChunk extends PartialImageChunk {
  mimeType: typeof RAW_PREVIEW
  width: number
  height: number
  channels: 1 | 3 | 4
}

export function rawPreviewChunk(index: number, partialIndex: number, frame: NativeImage): OutputChunk {
  const chunk: RawPreviewChunk = {
    type: 'image-partial',
    index,
    partialIndex,
    data: frame.data,
    mimeType: RAW_PREVIEW,
    width: frame.width,
    height: frame.height,
    channels: frame.channels as 1 | 3 | 4,
  }
  return chunk
}

const isRawPreview = (chunk: OutputChunk): chunk is RawPreviewChunk => chunk.type === 'image-partial' && chunk.mimeType === RAW_PREVIEW

/**
 * A sink that passes chunks on in order, encoding raw previews in `format` on the way (off the
 * generating thread). `flush()` resolves once everything pushed has gone on.
 */
export function encodePreviews(out: OutputSink, format: ImageFormat, compression: number): OutputSink & { flush(): Promise<void> } {
  let chain: Promise<unknown> = Promise.resolve()
  let inOrder = true
  const sink = interceptedSink(out, (chunk) => {
    if (!isRawPreview(chunk) && inOrder) return out.push(chunk)
    // From the first preview on, everything waits its turn behind the encodings.
    inOrder = false
    chain = chain.then(async () => {
      if (!isRawPreview(chunk)) return out.push(chunk)
      const { width, height, channels, data, index, partialIndex } = chunk
      const encoded = await encodeImage({ width, height, channels, data }, format, compression)
      return out.push({ type: 'image-partial', ...(index === undefined ? {} : { index }), partialIndex, data: encoded.data, mimeType: encoded.mimeType })
    })
    return true
  })
  return Object.assign(sink, { flush: () => chain.then(() => {}) })
}
