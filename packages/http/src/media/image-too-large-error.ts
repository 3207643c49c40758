import { InvalidImageUrlError } from './invalid-image-url-error.ts'

/** 400 `image_too_large`: an image past the server's limit (`media.maxBytes`), counted as it is read. */
export class ImageTooLargeError extends InvalidImageUrlError {
  override readonly name: string = 'ImageTooLargeError'

  constructor(param: string, maxBytes: number, what = 'the image is') {
    super(param, `${what} larger than this server's limit of ${maxBytes} bytes`, 'image_too_large')
  }
}
