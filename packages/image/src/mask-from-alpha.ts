import { BadRequestError } from '@cy/core'
import type { RawImage } from './raw-image.ts'

/**
 * OpenAI's edit mask marks the area to change with transparency (alpha 0 = edit, opaque = keep);
 * stable-diffusion.cpp wants one channel with 255 = repaint. Partial transparency stays partial.
 */
export function maskFromAlpha(mask: RawImage, part = 'mask'): RawImage {
  if (mask.channels !== 4) {
    throw new BadRequestError(`The ${part} has no alpha channel: its transparent pixels (alpha 0) mark the area to edit, as OpenAI's masks do`, { param: part, code: 'invalid_mask' })
  }
  const pixels = mask.width * mask.height
  const out = new Uint8Array(pixels)
  for (let i = 0; i < pixels; i++) out[i] = 255 - mask.data[i * 4 + 3]!
  return { width: mask.width, height: mask.height, channels: 1, data: out }
}
