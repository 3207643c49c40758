import { BadRequestError } from '@cy/core'

export interface ImageSize {
  width: number
  height: number
}

/** stable-diffusion.cpp's latent grid: the VAE's 8× times the UNet's 8×. */
export const SIZE_STEP = 64

/**
 * The size to make: `WxH`, or `auto` / absent for the model's default. OpenAI's named sizes (256x256,
 * 1024x1536, 1792x1024...) are WxH too. Each side must be positive and at most `maxSize`; a side that is
 * not a multiple of 64 is rounded up to one, as stable-diffusion.cpp itself would (so the size asked of
 * the library is the size it returns, and the one reported).
 */
export function parseImageSize(size: string | null | undefined, fallback: ImageSize, maxSize: number): ImageSize {
  if (size === undefined || size === null || size === 'auto') return fallback
  const match = /^(\d+)x(\d+)$/.exec(size)
  if (!match) throw new BadRequestError(`Invalid size '${size}': use WIDTHxHEIGHT (e.g. 512x512) or auto`, { param: 'size', code: 'invalid_value' })
  const width = Number(match[1])
  const height = Number(match[2])
  if (width <= 0 || height <= 0) throw new BadRequestError(`Invalid size '${size}': both sides must be positive`, { param: 'size', code: 'invalid_value' })
  if (width > maxSize || height > maxSize) {
    throw new BadRequestError(`Size ${size} is above this model's limit of ${maxSize} pixels per side`, { param: 'size', code: 'invalid_value' })
  }
  return alignSize({ width, height })
}

/** Each side rounded up to a multiple of 64. */
export function alignSize({ width, height }: ImageSize): ImageSize {
  return { width: Math.ceil(width / SIZE_STEP) * SIZE_STEP, height: Math.ceil(height / SIZE_STEP) * SIZE_STEP }
}

/** "512x512". */
export const formatSize = ({ width, height }: ImageSize) => `${width}x${height}`
