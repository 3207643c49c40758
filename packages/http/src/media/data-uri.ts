import { ImageTooLargeError } from './image-too-large-error.ts'
import { sniffImageMime } from './image-mime.ts'
import { InvalidImageUrlError } from './invalid-image-url-error.ts'

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
/** Enough base64 for every signature `sniffImageMime` reads. */
const HEAD_CHARS = 64

/** A data URI of image bytes, as the adapters receive every image. */
export function toDataUri(bytes: Uint8Array, mime: string): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`
}

/** How many bytes base64 text decodes to. */
export function base64Bytes(data: string): number {
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0
  return Math.floor((data.length * 3) / 4) - padding
}

/** The MIME type image bytes sniff as, or a 400 naming the part. */
export function imageMime(bytes: Uint8Array, param: string): string {
  const mime = sniffImageMime(bytes)
  if (!mime) throw new InvalidImageUrlError(param, 'the content is not a PNG, JPEG, WebP, GIF or BMP image')
  return mime
}

/**
 * A `data:` URI checked without decoding all of it: base64, an image type (or none), within the size limit,
 * bytes that sniff as an image. Passed on as it is, or with the sniffed type when it declared another or none.
 */
export function checkDataUri(url: string, param: string, maxBytes: number): string {
  const comma = url.indexOf(',')
  if (comma < 0) throw new InvalidImageUrlError(param, 'a data URI needs a comma before its data')
  const [type = '', ...flags] = url.slice('data:'.length, comma).split(';')
  const declared = type.trim().toLowerCase()
  if (!flags.some((flag) => flag.trim().toLowerCase() === 'base64')) throw new InvalidImageUrlError(param, 'only base64 data URIs are accepted (data:image/png;base64,...)')
  if (declared && !declared.startsWith('image/')) throw new InvalidImageUrlError(param, `a data URI of type '${declared}' is not an image`)
  const data = url.slice(comma + 1)
  if (data.length === 0) throw new InvalidImageUrlError(param, 'the data URI holds no data')
  if (data.length % 4 === 1 || !BASE64.test(data)) throw new InvalidImageUrlError(param, 'the data URI is not valid base64')
  if (base64Bytes(data) > maxBytes) throw new ImageTooLargeError(param, maxBytes)
  const mime = imageMime(new Uint8Array(Buffer.from(data.slice(0, HEAD_CHARS), 'base64')), param)
  return mime === declared ? url : `data:${mime};base64,${data}`
}
