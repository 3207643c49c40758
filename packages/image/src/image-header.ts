import sharp from 'sharp'

/** What an encoded image's header says: its format (libvips' name: png, jpeg, webp, gif, …) and size. */
export interface ImageHeader {
  format: string
  width: number
  height: number
}

/** Reads an encoded image's header only (no pixels are made); undefined when it is not an image libvips knows. */
export async function readImageHeader(bytes: Uint8Array): Promise<ImageHeader | undefined> {
  try {
    const metadata = await sharp(bytes, { limitInputPixels: false }).metadata()
    if (!metadata.format || !metadata.width || !metadata.height) return undefined
    return { format: metadata.format, width: metadata.width, height: metadata.height }
  } catch {
    return undefined
  }
}
