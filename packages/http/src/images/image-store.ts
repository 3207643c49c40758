interface StoredImage {
  data: Uint8Array
  mimeType: string
  expiresAt: number
}

/**
 * Generated images kept for a while so `response_format: "url"` can hand out links, as OpenAI's
 * expiring URLs do. The id is 128 random bits: knowing the URL is the permission to fetch it.
 */
export class ImageStore {
  readonly #images = new Map<string, StoredImage>()

  constructor(
    readonly ttlMs: number = 60 * 60 * 1000,
    readonly maxImages: number = 256,
  ) {}

  put(data: Uint8Array, mimeType: string): string {
    this.#sweep()
    while (this.#images.size >= this.maxImages) this.#images.delete(this.#images.keys().next().value!)
    const id = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')
    this.#images.set(id, { data, mimeType, expiresAt: Date.now() + this.ttlMs })
    return id
  }

  get(id: string): StoredImage | undefined {
    const image = this.#images.get(id)
    if (!image) return undefined
    if (image.expiresAt <= Date.now()) {
      this.#images.delete(id)
      return undefined
    }
    return image
  }

  #sweep(): void {
    const now = Date.now()
    for (const [id, image] of this.#images) if (image.expiresAt <= now) this.#images.delete(id)
  }
}

export function extensionFor(mimeType: string): string {
  return mimeType === 'image/jpeg' ? 'jpg' : mimeType === 'image/webp' ? 'webp' : 'png'
}
