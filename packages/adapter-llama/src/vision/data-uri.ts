import { BadRequestError } from '@cy/core'

/** The bytes of a base64 `data:` URI (the form every image part has by the time it reaches the engine). */
export function dataUriBytes(url: string, param: string): Uint8Array {
  const comma = url.indexOf(',')
  if (!url.startsWith('data:') || comma < 0 || !url.slice(0, comma).endsWith(';base64')) {
    throw new BadRequestError(`${param} must be a base64 data: URI here (the server fetches URLs and allowed files into these)`, { param, code: 'invalid_image_url' })
  }
  const bytes = Buffer.from(url.slice(comma + 1), 'base64')
  if (bytes.length === 0) throw new BadRequestError(`${param} is empty`, { param, code: 'invalid_image' })
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
