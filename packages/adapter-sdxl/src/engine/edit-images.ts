import { BadRequestError } from '@cy/core'
import { decodeImage, maskFromAlpha, resizeImage, withChannels, type RawImage } from '@cy/image'
import type { NativeImage } from '../native/sd-native.ts'
import type { GenerateRequest } from './generate-args.ts'

export interface EditInputs {
  initImage?: NativeImage
  mask?: NativeImage
  refImage?: NativeImage
}

/**
 * The uploads of an edit, decoded (in the engine's Worker: never on the server's event loop), checked
 * and scaled to the size made. What they become depends on the model: an inpaint UNet gets the image
 * and the mask, a pix2pix model the image as its reference (it edits by instruction: no mask), any other
 * the image for img2img, masked when a mask came.
 */
export async function prepareEdit(request: GenerateRequest, variant: string | undefined): Promise<EditInputs> {
  const images = request.images ?? []
  if (images.length === 0) {
    if (request.mask) throw new BadRequestError('A mask needs an image to edit', { param: 'mask', code: 'invalid_value' })
    return {}
  }
  if (images.length > 1) throw new BadRequestError(`This model edits one image; ${images.length} came`, { param: 'image', code: 'invalid_value' })
  const decoded = await decodeImage(images[0]!, request.imageLimits, 'image')
  const image = await resizeImage(withChannels(decoded, 3), request.width, request.height)
  let mask: RawImage | undefined
  if (request.mask) {
    const raw = await decodeImage(request.mask, request.imageLimits, 'mask')
    if (raw.width !== decoded.width || raw.height !== decoded.height) {
      throw new BadRequestError(`The mask is ${raw.width}x${raw.height}; it must be the size of the image, ${decoded.width}x${decoded.height}`, { param: 'mask', code: 'invalid_value' })
    }
    mask = await resizeImage(maskFromAlpha(raw), request.width, request.height)
  }
  if (variant === 'pix2pix') {
    if (mask) throw new BadRequestError('This model (instruct-pix2pix) edits the whole image by its instruction: it takes no mask', { param: 'mask', code: 'invalid_value' })
    return { refImage: image }
  }
  return mask ? { initImage: image, mask } : { initImage: image }
}
