import { BadRequestError, PayloadTooLargeError } from '@cy/core'
import sharp, { type Metadata } from 'sharp'
import { DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS, type ImageLimits } from './image-limits.ts'
import type { RawImage } from './raw-image.ts'

/** The formats an upload may be in, as libvips names them. */
const ACCEPTED = new Set(['png', 'jpeg', 'webp'])

/**
 * Decodes an uploaded PNG, JPEG or WebP into 8-bit RGB or RGBA pixels (RGBA when it has alpha), after
 * checking its size from the header: a decompression bomb is refused before its pixels are made. `part`
 * names the form field in errors ("image", "mask"). libvips decodes on its own threads.
 */
export async function decodeImage(bytes: Uint8Array, limits: ImageLimits = {}, part = 'image'): Promise<RawImage> {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_IMAGE_BYTES
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS
  if (bytes.length === 0) throw new BadRequestError(`The ${part} is empty`, { param: part, code: 'invalid_image' })
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(`The ${part} is ${bytes.length} bytes; the limit is ${maxBytes}`, { param: part, code: 'image_too_large' })
  let metadata: Metadata
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata()
  } catch {
    throw new BadRequestError(`The ${part} is not an image this server can read (PNG, JPEG or WebP)`, { param: part, code: 'invalid_image' })
  }
  if (!metadata.format || !ACCEPTED.has(metadata.format) || !metadata.width || !metadata.height) {
    throw new BadRequestError(`The ${part} is ${metadata.format ?? 'an unknown format'}; send PNG, JPEG or WebP`, { param: part, code: 'invalid_image_format' })
  }
  if (metadata.width * metadata.height > maxPixels) {
    throw new BadRequestError(`The ${part} is ${metadata.width}x${metadata.height}; the limit is ${maxPixels} pixels`, { param: part, code: 'image_too_large' })
  }
  try {
    // Orientation applied, as viewers show it; 16-bit and palette images come out as 8-bit RGB(A).
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels }).rotate().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true })
    return { width: info.width, height: info.height, channels: info.channels as RawImage['channels'], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }
  } catch {
    throw new BadRequestError(`The ${part} could not be decoded: it is damaged or truncated`, { param: part, code: 'invalid_image' })
  }
}
