import { ApiError } from '@cy/core'
import { decodeImage, encodeImage, maskFromAlpha, resizeImage, sniffImageFormat, transcodeImage, withChannels, type RawImage } from '@cy/image'
import { describe, expect, test } from 'bun:test'
import sharp from 'sharp'

const gradient = (width: number, height: number, channels: 3 | 4 = 3): RawImage => ({
  width,
  height,
  channels,
  data: new Uint8Array(width * height * channels).map((_, i) => (channels === 4 && i % 4 === 3 ? (Math.floor(i / 4) % width < width / 2 ? 0 : 255) : (i * 7) % 256)),
})

const apiError = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (e) => e)
  expect(ApiError.isInstance(error)).toBe(true)
  return error as ApiError
}

describe('@cy/image', () => {
  test('PNG round-trips pixel for pixel; JPEG and WebP decode to the same size', async () => {
    const image = gradient(17, 9)
    const png = await encodeImage(image, 'png')
    expect(png.mimeType).toBe('image/png')
    expect(await decodeImage(png.data)).toEqual(image)
    for (const format of ['jpeg', 'webp'] as const) {
      const encoded = await encodeImage(image, format, 90)
      expect(sniffImageFormat(encoded.data)).toBe(format)
      const decoded = await decodeImage(encoded.data)
      expect([decoded.width, decoded.height, decoded.channels]).toEqual([17, 9, 3])
    }
  })

  test('output_compression changes JPEG size', async () => {
    const image = gradient(64, 64)
    const low = await encodeImage(image, 'jpeg', 10)
    const high = await encodeImage(image, 'jpeg', 100)
    expect(low.data.length).toBeLessThan(high.data.length)
  })

  test('alpha survives decoding; the mask is 255 where alpha is 0', async () => {
    const rgba = gradient(8, 2, 4)
    const decoded = await decodeImage((await encodeImage(rgba, 'png')).data, {}, 'mask')
    expect(decoded.channels).toBe(4)
    const mask = maskFromAlpha(decoded)
    expect(mask.channels).toBe(1)
    expect(Array.from(mask.data.slice(0, 8))).toEqual([255, 255, 255, 255, 0, 0, 0, 0])
  })

  test('a mask without alpha is a 400 naming the mask', async () => {
    expect(() => maskFromAlpha(gradient(4, 4))).toThrow(/alpha/)
    try {
      maskFromAlpha(gradient(4, 4))
    } catch (error) {
      expect((error as ApiError).status).toBe(400)
      expect((error as ApiError).param).toBe('mask')
    }
  })

  test('not an image, a truncated one, an unsupported format: 400s naming the part', async () => {
    const png = (await encodeImage(gradient(32, 32), 'png')).data
    for (const bytes of [new TextEncoder().encode('hello, not an image'), png.slice(0, png.length / 2), new Uint8Array(0)]) {
      const error = await apiError(decodeImage(bytes, {}, 'image[1]'))
      expect(error.status).toBe(400)
      expect(error.param).toBe('image[1]')
    }
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).gif().toBuffer()
    expect((await apiError(decodeImage(gif))).code).toBe('invalid_image_format')
  })

  test('a decompression bomb is refused from its header, before its pixels are made', async () => {
    // 5000 x 5000 of one colour compresses to a few kB; its pixels would be 75 MB.
    const bomb = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: '#fff' }, limitInputPixels: false }).png({ compressionLevel: 9 }).toBuffer()
    expect(bomb.length).toBeLessThan(4 * 1024 * 1024)
    const error = await apiError(decodeImage(bomb, { maxPixels: 4096 * 4096 }))
    expect([error.status, error.code]).toEqual([400, 'image_too_large'])
    const big = await apiError(decodeImage(bomb, { maxBytes: 1000 }))
    expect(big.status).toBe(413)
  })

  test('resize to exact dimensions; channels added and dropped', async () => {
    const resized = await resizeImage(gradient(30, 20), 64, 48)
    expect([resized.width, resized.height, resized.data.length]).toEqual([64, 48, 64 * 48 * 3])
    const rgba = withChannels(gradient(2, 1), 4)
    expect(Array.from(rgba.data)).toEqual([0, 7, 14, 255, 21, 28, 35, 255])
    expect(withChannels(rgba, 3).data).toEqual(gradient(2, 1).data)
  })

  test('transcode keeps bytes already in the format and re-encodes the rest', async () => {
    const png = (await encodeImage(gradient(8, 8), 'png')).data
    expect((await transcodeImage(png, 'png')).data).toBe(png)
    const webp = await transcodeImage(png, 'webp')
    expect([sniffImageFormat(webp.data), webp.mimeType]).toEqual(['webp', 'image/webp'])
  })
})
