import sharp from 'sharp'
import { IMAGE_MIME_TYPES, type ImageFormat, type RawImage } from './raw-image.ts'

export interface EncodedImage {
  data: Uint8Array
  mimeType: string
}

/**
 * Encodes pixels as PNG, JPEG or WebP. `compression` is OpenAI's `output_compression` (0–100, default
 * 100): the quality of JPEG and WebP; PNG is lossless and ignores it. libvips encodes on its own threads.
 */
export async function encodeImage(image: RawImage, format: ImageFormat = 'png', compression = 100): Promise<EncodedImage> {
  const quality = Math.min(100, Math.max(1, Math.round(compression)))
  const input = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
  const encoder = format === 'jpeg' ? input.jpeg({ quality }) : format === 'webp' ? input.webp({ quality }) : input.png()
  const data = await encoder.toBuffer()
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), mimeType: IMAGE_MIME_TYPES[format] }
}

/** The format of encoded bytes from their magic numbers, or undefined for none of the three. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png'
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg'
  if (bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46 && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return 'webp'
  return undefined
}

/** Encoded bytes in `format`: as they are when already in it (their maker chose the quality), else decoded and encoded again. */
export async function transcodeImage(bytes: Uint8Array, format: ImageFormat, compression = 100): Promise<EncodedImage> {
  if (sniffImageFormat(bytes) === format) return { data: bytes, mimeType: IMAGE_MIME_TYPES[format] }
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true })
  return encodeImage({ width: info.width, height: info.height, channels: info.channels as RawImage['channels'], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }, format, compression)
}
