import sharp from 'sharp'
import type { RawImage } from './raw-image.ts'

/** Scales pixels to exactly `width` × `height` (stretching, as stable-diffusion.cpp's own resize does). */
export async function resizeImage(image: RawImage, width: number, height: number): Promise<RawImage> {
  if (image.width === width && image.height === height) return image
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { width: info.width, height: info.height, channels: info.channels as RawImage['channels'], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }
}

/** The same pixels with `channels` channels: alpha dropped or added (opaque), gray spread to RGB. */
export function withChannels(image: RawImage, channels: 1 | 3 | 4): RawImage {
  if (image.channels === channels) return image
  const pixels = image.width * image.height
  const out = new Uint8Array(pixels * channels)
  const from = image.channels
  for (let i = 0; i < pixels; i++) {
    const r = image.data[i * from]!
    const g = from >= 3 ? image.data[i * from + 1]! : r
    const b = from >= 3 ? image.data[i * from + 2]! : r
    if (channels === 1) out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b)
    else {
      out[i * channels] = r
      out[i * channels + 1] = g
      out[i * channels + 2] = b
      if (channels === 4) out[i * 4 + 3] = from === 4 ? image.data[i * 4 + 3]! : 255
    }
  }
  return { width: image.width, height: image.height, channels, data: out }
}
