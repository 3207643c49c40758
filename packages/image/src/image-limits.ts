/** What one uploaded image may cost to decode. */
export interface ImageLimits {
  /** Largest width × height (default 4096 × 4096). */
  maxPixels?: number
  /** Largest encoded size in bytes (default 32 MiB). */
  maxBytes?: number
}

export const DEFAULT_MAX_PIXELS = 4096 * 4096
export const DEFAULT_MAX_IMAGE_BYTES = 32 * 1024 * 1024
