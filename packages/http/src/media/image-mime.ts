import { IMAGE_MIME_TYPES, sniffImageFormat } from '@cy/image'

/**
 * The MIME type of image bytes, from their signature: png, jpeg and webp (`@cy/image`), and gif and bmp,
 * which llama.cpp's image loader (stb_image) also reads. Undefined: not an image we know.
 */
export function sniffImageMime(bytes: Uint8Array): string | undefined {
  const format = sniffImageFormat(bytes)
  if (format) return IMAGE_MIME_TYPES[format]
  if (bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x38) return 'image/gif'
  if (bytes[0] === 0x42 && bytes[1] === 0x4d && bytes.length > 14) return 'image/bmp'
  return undefined
}
