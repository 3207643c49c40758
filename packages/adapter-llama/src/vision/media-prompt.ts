import type { Pointer } from 'bun:ffi'
import type { MediaChunk } from '../native/mtmd-native.ts'

/** An image's place in a prompt: where its entries start, how many, and its chunk to evaluate. */
export interface PromptImage {
  start: number
  nTokens: number
  nPos: number
  chunk: Pointer
}

/**
 * A prompt with images, as the scheduler runs it. `keys` has one entry per context entry: a text token's
 * id, or, for each of an image's entries, the same negative number standing for that image (equal images,
 * equal numbers), so the slot cache's prefix matching works over images as over text: a conversation
 * that resends an earlier image reuses its embeddings instead of encoding it again.
 */
export class MediaPrompt {
  readonly keys: Int32Array
  /** By their first entry. */
  readonly images = new Map<number, PromptImage>()
  readonly #ordered: PromptImage[] = []

  constructor(
    chunks: MediaChunk[],
    imageKey: (id: string) => number,
    /** Frees the native chunk list: once the request is done. */
    readonly dispose: () => void,
  ) {
    const keys: number[] = []
    for (const chunk of chunks) {
      if (chunk.kind === 'text') {
        for (const token of chunk.tokens!) keys.push(token)
        continue
      }
      const image = { start: keys.length, nTokens: chunk.nTokens, nPos: chunk.nPos, chunk: chunk.pointer }
      this.images.set(image.start, image)
      this.#ordered.push(image)
      const key = imageKey(chunk.id!)
      for (let i = 0; i < chunk.nTokens; i++) keys.push(key)
    }
    this.keys = Int32Array.from(keys)
  }

  /** The image whose entries hold `index`, if any. */
  imageAt(index: number): PromptImage | undefined {
    return this.#ordered.find((image) => index >= image.start && index < image.start + image.nTokens)
  }

  /** The longest reusable prefix within `shared` entries: never part of an image (its embeddings go in whole). */
  reusable(shared: number): number {
    const image = this.imageAt(shared)
    return image ? image.start : shared
  }

  /** The position of entry `index` (M-RoPE images take fewer positions than entries). */
  positionOf(index: number): number {
    let position = index
    for (const image of this.#ordered) {
      if (image.start + image.nTokens <= index) position -= image.nTokens - image.nPos
      else if (image.start < index) position -= index - image.start
    }
    return position
  }
}
