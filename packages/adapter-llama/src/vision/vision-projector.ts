import { BadRequestError, ProviderError } from '@cy/core'
import { decodeImage, readImageHeader, withChannels } from '@cy/image'
import type { Pointer } from 'bun:ffi'
import { createHash } from 'node:crypto'
import { MtmdNative, type ProjectorOptions } from '../native/mtmd-native.ts'
import { MediaPrompt } from './media-prompt.ts'

/** Largest width × height of an image part (as the image routes' limit). */
const MAX_PIXELS = 4096 * 4096
/** Formats stb_image decodes, as llama-server does; the rest (WebP) go through libvips. */
const STB_FORMATS = new Set(['png', 'jpeg', 'gif', 'bmp'])
/** Distinct images remembered for prefix matching; past it the numbering goes on, so no two images share one. */
const REMEMBERED_IMAGES = 4096

/**
 * A model's multimodal projector (the `mmproj` GGUF beside it), through libmtmd: it turns a prompt with
 * image markers and the images' bytes into a `MediaPrompt`, and puts an image's embeddings into a
 * sequence's cache. Runs in the engine host, never on the server's event loop.
 */
export class VisionProjector {
  readonly native: MtmdNative
  readonly context: Pointer
  readonly #keys = new Map<string, number>()
  #nextKey = -1

  constructor(mtmdDir: string, path: string, model: Pointer, readonly options: ProjectorOptions) {
    this.native = new MtmdNative(mtmdDir)
    const context = this.native.init(path, model, options)
    if (!context) throw new ProviderError(`libmtmd could not load the projector ${path}: it is not an mmproj GGUF for this model, or it is damaged`)
    if (!this.native.calls.mtmd_support_vision(context)) {
      this.native.free(context)
      throw new ProviderError(`The projector ${path} reads no images (an audio projector?)`)
    }
    this.context = context
  }

  /** The number standing for an image in prompt keys: the same for the same bytes, never reused for others. */
  #imageKey = (id: string): number => {
    let key = this.#keys.get(id)
    if (key === undefined) {
      if (this.#keys.size >= REMEMBERED_IMAGES) this.#keys.clear()
      key = this.#nextKey--
      this.#keys.set(id, key)
    }
    return key
  }

  /** A bitmap of one image part's bytes; `param` names the part in errors (the client's mistake: 400). */
  async #bitmap(bytes: Uint8Array, param: string): Promise<Pointer> {
    const header = await readImageHeader(bytes)
    if (!header) throw new BadRequestError(`${param} is not an image this server can read (PNG, JPEG, WebP, GIF or BMP)`, { param, code: 'invalid_image' })
    // From the header, before any pixels are made: a decompression bomb is refused here.
    if (header.width * header.height > MAX_PIXELS) {
      throw new BadRequestError(`${param} is ${header.width}x${header.height}; the limit is ${MAX_PIXELS} pixels`, { param, code: 'image_too_large' })
    }
    if (STB_FORMATS.has(header.format)) {
      const bitmap = this.native.bitmapFromEncoded(this.context, bytes)
      if (!bitmap) throw new BadRequestError(`${param} could not be decoded: it is damaged or truncated`, { param, code: 'invalid_image' })
      return bitmap
    }
    const image = withChannels(await decodeImage(bytes, { maxPixels: MAX_PIXELS }, param), 3)
    return this.native.bitmapFromRgb(image.width, image.height, image.data, createHash('sha256').update(bytes).digest('hex'))
  }

  /** The prompt's chunks: each marker in `text` is the next image. */
  async prompt(text: string, images: Array<{ bytes: Uint8Array; param: string }>, addSpecial: boolean): Promise<MediaPrompt> {
    const bitmaps: Pointer[] = []
    try {
      for (const image of images) bitmaps.push(await this.#bitmap(image.bytes, image.param))
      const result = this.native.tokenize(this.context, text, bitmaps, addSpecial)
      if ('code' in result) {
        if (result.code === 1) throw new ProviderError(`The prompt has a different number of image markers than the ${images.length} image(s) sent`)
        throw new BadRequestError(`An image could not be prepared for this model (libmtmd error ${result.code})`, { param: images[0]?.param ?? 'messages', code: 'invalid_image' })
      }
      const chunks = this.native.chunks(result.chunks)
      const prompt = new MediaPrompt(chunks, this.#imageKey, () => this.native.freeChunks(result.chunks))
      if (chunks.at(-1)?.kind !== 'text') {
        prompt.dispose()
        throw new BadRequestError('The prompt ends with an image: it must end with text for the model to answer', { param: 'messages' })
      }
      return prompt
    } finally {
      for (const bitmap of bitmaps) this.native.freeBitmap(bitmap)
    }
  }

  /** Encodes the image and decodes its embeddings into `seq` at `position`; returns the next position. */
  evalImage(llamaContext: Pointer, chunk: Pointer, position: number, seq: number, batchSize: number): number {
    const { code, nPast } = this.native.evalChunk(this.context, llamaContext, chunk, position, seq, batchSize)
    if (code !== 0) throw new ProviderError(`libmtmd failed to encode or decode an image (${code})`)
    return nPast
  }

  dispose(): void {
    this.native.free(this.context)
  }
}
