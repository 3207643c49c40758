/** Decoded pixels: row-major, `channels` bytes per pixel (1 gray, 3 RGB, 4 RGBA). */
export interface RawImage {
  width: number
  height: number
  channels: 1 | 3 | 4
  data: Uint8Array
}

export type ImageFormat = 'png' | 'jpeg' | 'webp'

export const IMAGE_MIME_TYPES: Record<ImageFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' }
